package dynamodb

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"
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
// only the bounded retries of transactions canceled by concurrent
// transactions.
func New(client API, table string) *Store {
	return &Store{client: client, table: table}
}

// maxAttempts bounds the Store's own retries of a transaction canceled by a
// concurrent transaction (TransactionConflict) or, for read-then-write
// operations, by a change between the read and the write.
const maxAttempts = 8

// backoff sleeps before attempt+1 (attempt counts from 1): full jitter over
// an exponential window from 5 ms, capped at 200 ms. Contending
// transactions spread out instead of colliding again in lockstep.
func backoff(ctx context.Context, attempt int) error {
	window := min(5*time.Millisecond<<min(attempt, 10), 200*time.Millisecond)
	t := time.NewTimer(rand.N(window) + time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
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

// batchGet reads items, strongly consistent, in one BatchGetItem per 100
// keys; the result is in the order of keys, nil where an item does not
// exist. Unprocessed keys are read again with backoff.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	found := make(map[[2]string]map[string]types.AttributeValue, len(keys))
	for start := 0; start < len(keys); start += 100 {
		pending := keys[start:min(start+100, len(keys))]
		for attempt := 1; len(pending) > 0; attempt++ {
			out, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
				RequestItems: map[string]types.KeysAndAttributes{
					s.table: {Keys: pending, ConsistentRead: aws.Bool(true)},
				},
			})
			if err != nil {
				return nil, err
			}
			for _, item := range out.Responses[s.table] {
				found[[2]string{str(item, attrPK), str(item, attrSK)}] = item
			}
			pending = out.UnprocessedKeys[s.table].Keys
			if len(pending) > 0 {
				if attempt >= maxAttempts {
					return nil, fmt.Errorf("BatchGetItem: %d keys still unprocessed after %d attempts", len(pending), attempt)
				}
				if err := backoff(ctx, attempt); err != nil {
					return nil, err
				}
			}
		}
	}
	items := make([]map[string]types.AttributeValue, len(keys))
	for i, k := range keys {
		items[i] = found[[2]string{str(k, attrPK), str(k, attrSK)}]
	}
	return items, nil
}

// readWith reads key and, when the Guard names an actor, the actor's user
// item in the same request (BatchGetItem; GetItem otherwise). actor is nil
// when there is no guard or the account does not exist.
func (s *Store) readWith(ctx context.Context, g babysitter.Guard, keys ...map[string]types.AttributeValue) (items []map[string]types.AttributeValue, actor map[string]types.AttributeValue, err error) {
	if g.Username != "" {
		keys = append(keys, userItemKey(g.Username))
	}
	if len(keys) == 1 {
		item, err := s.getItem(ctx, keys[0])
		return []map[string]types.AttributeValue{item}, nil, err
	}
	items, err = s.batchGet(ctx, keys)
	if err != nil {
		return nil, nil, err
	}
	if g.Username != "" {
		actor, items = items[len(items)-1], items[:len(items)-1]
	}
	return items, actor, nil
}

// checkGuard applies g to the actor's user item as read (nil: no account).
func checkGuard(g babysitter.Guard, actor map[string]types.AttributeValue) error {
	if g.Username == "" {
		return nil
	}
	if actor == nil {
		return g.Check(nil)
	}
	u := babysitter.User{Username: g.Username, Status: babysitter.AccountStatus(str(actor, attrUserStatus))}
	return g.Check(&u)
}

// guardFailed is the error of a guard condition that failed in a write,
// from the actor's item as the failure returned it; retry is true when the
// item passes the guard now (it changed in between).
func guardFailed(g babysitter.Guard, actor map[string]types.AttributeValue) (err error, retry bool) {
	if err := checkGuard(g, actor); err != nil {
		return err, false
	}
	return nil, true
}

// transact runs one TransactWriteItems with a fresh ClientRequestToken.
// The SDK would fill one in too (its idempotency-token middleware runs
// before the retry loop, so its own retries of this call reuse it and a
// retry of a transaction that did commit is answered with success instead of
// being applied twice); setting it here makes that explicit. A new call —
// after a cancellation, with new input — gets a new token.
func (s *Store) transact(ctx context.Context, items []types.TransactWriteItem) error {
	_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems:      items,
		ClientRequestToken: aws.String(uuid.NewString()),
	})
	return err
}

// transactRetry is transact, retried with backoff while the transaction is
// canceled only by concurrent transactions, at most maxAttempts times.
func (s *Store) transactRetry(ctx context.Context, items []types.TransactWriteItem) error {
	for attempt := 1; ; attempt++ {
		err := s.transact(ctx, items)
		if err == nil || !retryable(err) || attempt >= maxAttempts {
			return err
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
}

// reasonItem is the item a canceled transaction returned for its i-th
// action (ReturnValuesOnConditionCheckFailure ALL_OLD), or, when it
// returned none, the item as read now (nil when it does not exist).
func (s *Store) reasonItem(ctx context.Context, reasons []types.CancellationReason, i int, key map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	if i < len(reasons) && len(reasons[i].Item) > 0 {
		return reasons[i].Item, nil
	}
	return s.getItem(ctx, key)
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
