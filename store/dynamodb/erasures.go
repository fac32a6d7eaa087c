package dynamodb

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/babysitter-go/babysitter"
)

// The outbox of erasures: DeleteUser puts an item ERASE#<shard> /
// USER#<username> in the transaction that deletes an account with
// objects, holding their keys; an Eraser deletes the objects and then the
// item (ClearErasure). DueErasures reads the shards, so an erasure that a
// failed deletion or a crashed process left is found. Like the outbox of
// declines it holds only what is in flight: a sweep reads few items.
const prefixErasure = "ERASE#"

// erasureItemKey is the erasure item of a deleted account.
func erasureItemKey(username string) map[string]types.AttributeValue {
	return tableKey(shardKey(prefixErasure, username), userKey(username))
}

// erasureItem is the stored shape of an erasure item (key:
// erasureItemKey), new in version 2.
type erasureItem struct {
	Username string   `dynamodbav:"username"`
	Keys     []string `dynamodbav:"keys"`
	// Due is babysitter.Erasure.Due in dueTime's format, which the shared
	// outbox query (dueItems) filters and sorts on.
	Due string `dynamodbav:"due"`
}

func (erasureItem) version() int { return 2 }

func (i erasureItem) value() babysitter.Erasure {
	due, _ := time.Parse(time.RFC3339Nano, i.Due) // dueTime's format is RFC 3339; a bad one reads as long due
	return babysitter.Erasure{Username: i.Username, Keys: i.Keys, Due: due}
}

// encodeErasure is the erasure item of e.
func encodeErasure(e babysitter.Erasure) (map[string]types.AttributeValue, error) {
	return encodeItem(erasureItem{Username: e.Username, Keys: e.Keys, Due: dueTime(e.Due)}, keyStrings(erasureItemKey(e.Username)))
}

// DueErasures reads every erasure shard (a strongly consistent Query each,
// concurrently) and returns up to limit Erasures due since before the
// given time, oldest first.
func (s *Store) DueErasures(ctx context.Context, before time.Time, limit int) ([]babysitter.Erasure, error) {
	items, err := dueItems(ctx, s, prefixErasure, before, limit, "erasure item", func(i erasureItem) (string, string) { return i.Due, i.Username })
	if err != nil {
		return nil, s.mapError("DueErasures", err)
	}
	out := make([]babysitter.Erasure, len(items))
	for i, item := range items {
		out[i] = item.value()
	}
	return out, nil
}

// ClearErasure is one DeleteItem of the account's erasure item.
func (s *Store) ClearErasure(ctx context.Context, username string) error {
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: erasureItemKey(username)})
	return s.mapError("ClearErasure", err)
}
