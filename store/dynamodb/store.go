package dynamodb

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/babysitter-go/babysitter"
)

// Store is a babysitter.Store on one DynamoDB table (see the package
// documentation for its layout). It is safe for concurrent use.
type Store struct {
	client API
	table  string
}

var _ babysitter.Store = (*Store)(nil)

// New returns a Store on an existing table (see CreateTable), reached
// through client: a *dynamodb.Client, or anything wrapping one (see API).
// The client's own retryer handles throttling and 5xx responses; Store adds
// only its own bounded retries (retry): of a transaction canceled by a
// concurrent one or by a change since its read, and of a BatchGetItem's
// unprocessed keys.
func New(client API, table string) *Store {
	return &Store{client: client, table: table}
}

// getItem reads one item, strongly consistent; nil when it does not exist.
func (s *Store) getItem(ctx context.Context, key map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            key,
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}

// keyOf is an item's (or a key's) primary key as a map key.
func keyOf(item map[string]types.AttributeValue) [2]string {
	return [2]string{str(item, attrPK), str(item, attrSK)}
}

// batchGet reads items, strongly consistent, in one BatchGetItem per 100
// distinct keys; the result is in the order of keys (a repeated key gets
// the same item), nil where an item does not exist. Unprocessed keys are
// read again with backoff (retry).
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	found := make(map[[2]string]map[string]types.AttributeValue, len(keys))
	seen := make(map[[2]string]bool, len(keys))
	var distinct []map[string]types.AttributeValue
	for _, k := range keys {
		if !seen[keyOf(k)] {
			seen[keyOf(k)] = true
			distinct = append(distinct, k) // DynamoDB rejects a BatchGetItem with a key twice
		}
	}
	for start := 0; start < len(distinct); start += 100 {
		pending := distinct[start:min(start+100, len(distinct))]
		err := retry(ctx, "BatchGetItem", func() error {
			out, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
				RequestItems: map[string]types.KeysAndAttributes{
					s.table: {Keys: pending, ConsistentRead: aws.Bool(true)},
				},
			})
			if err != nil {
				return err
			}
			for _, item := range out.Responses[s.table] {
				found[keyOf(item)] = item
			}
			pending = out.UnprocessedKeys[s.table].Keys
			if len(pending) > 0 {
				return again(fmt.Errorf("BatchGetItem: %d keys unprocessed", len(pending)))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	items := make([]map[string]types.AttributeValue, len(keys))
	for i, k := range keys {
		items[i] = found[keyOf(k)]
	}
	return items, nil
}

// updateItem is one UpdateItem of the item at key: up (whose expr holds
// cond's names and values too) if cond holds, returning the item as
// updated (ALL_NEW). When cond fails, decide gets the item as it was
// (ALL_OLD; nil when there is none) and the failure, and updateItem returns
// decide's error; other errors are mapped for op.
func (s *Store) updateItem(ctx context.Context, op string, key map[string]types.AttributeValue, up *update, cond string,
	decide func(old map[string]types.AttributeValue, cause error) error) (map[string]types.AttributeValue, error) {
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           aws.String(s.table),
		Key:                                 key,
		UpdateExpression:                    aws.String(up.String()),
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeNames:            up.e.Names(),
		ExpressionAttributeValues:           up.e.Values(),
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return nil, decide(ccf.Item, err)
	case err != nil:
		return nil, s.mapError(op, err)
	}
	return out.Attributes, nil
}

// guardable fails, before any request, a Guard that no account can pass:
// a non-admin actor without a username or without a role that acts
// through an account (g.Check says why).
func guardable(g babysitter.Guard) error {
	if g.Admin() || (g.Actor.Username != "" && g.AccountType() != "") {
		return nil
	}
	return g.Check(nil)
}

// actorKey is the key of the user item the Guard checks; ok is false for
// an admin, who has none.
func actorKey(g babysitter.Guard) (key map[string]types.AttributeValue, ok bool) {
	if g.Admin() {
		return nil, false
	}
	return userItemKey(g.Actor.Username), true
}

// accountOf is the account a user item holds, as the Guard and
// CheckApplicant look at it (username, type, status, subject); nil for no
// item. It decodes only those attributes, so it reads any version of a
// user item.
func accountOf(item map[string]types.AttributeValue) *babysitter.User {
	if item == nil {
		return nil
	}
	return &babysitter.User{
		Username: str(item, attrUsername),
		Type:     babysitter.UserType(str(item, attrUserType)),
		Status:   babysitter.AccountStatus(str(item, attrUserStatus)),
		Subject:  str(item, attrSubject),
	}
}

// read reads keys, strongly consistent, and, for a Guard on a non-admin
// actor, the actor's user item in the same request — one GetItem when
// that is one item (the actor reading their own item), else one
// BatchGetItem — and applies the Guard to it. items has one entry per key,
// nil where the item does not exist.
func (s *Store) read(ctx context.Context, g babysitter.Guard, keys ...map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	if err := guardable(g); err != nil {
		return nil, err
	}
	all := keys
	if k, ok := actorKey(g); ok {
		all = append(keys[:len(keys):len(keys)], k)
	}
	var items []map[string]types.AttributeValue
	if distinct(all) == 1 {
		item, err := s.getItem(ctx, all[0])
		if err != nil {
			return nil, err
		}
		items = make([]map[string]types.AttributeValue, len(all))
		for i := range items {
			items[i] = item
		}
	} else {
		var err error
		if items, err = s.batchGet(ctx, all); err != nil {
			return nil, err
		}
	}
	if !g.Admin() {
		if err := g.Check(accountOf(items[len(items)-1])); err != nil {
			return nil, err
		}
	}
	return items[:len(keys)], nil
}

// distinct counts the distinct keys.
func distinct(keys []map[string]types.AttributeValue) int {
	seen := make(map[[2]string]bool, len(keys))
	for _, k := range keys {
		seen[keyOf(k)] = true
	}
	return len(seen)
}

// queryWith runs a Query and, concurrently, strongly consistent GetItems of
// extra keys (a list's header item on later pages, the Guard's actor).
func (s *Store) queryWith(ctx context.Context, in *dynamodb.QueryInput, keys ...map[string]types.AttributeValue) (*dynamodb.QueryOutput, []map[string]types.AttributeValue, error) {
	if len(keys) == 0 {
		out, err := s.client.Query(ctx, in)
		return out, nil, err
	}
	var out *dynamodb.QueryOutput
	items := make([]map[string]types.AttributeValue, len(keys))
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		var err error
		out, err = s.client.Query(ctx, in)
		return err
	})
	for i, k := range keys {
		eg.Go(func() error {
			var err error
			items[i], err = s.getItem(ctx, k)
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, nil, err
	}
	return out, items, nil
}
