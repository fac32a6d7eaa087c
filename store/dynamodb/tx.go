package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/babysitter-go/babysitter"
)

// txn builds one TransactWriteItems. Every action is added under a name
// ("job", "application", userAction(username) …), and a cancellation is
// read by that name (txCanceled.failed, txCanceled.item), never by the
// action's position. Every action asks for the item as it was when its
// condition fails (ReturnValuesOnConditionCheckFailure ALL_OLD), so a
// failure can be explained by the root package's Check functions without
// another read.
type txn struct {
	table string
	names []string
	items []types.TransactWriteItem
}

func newTxn(table string) *txn { return &txn{table: table} }

// add appends an action under a name that must be new to the transaction.
func (t *txn) add(name string, item types.TransactWriteItem) {
	if t.index(name) >= 0 {
		panic("dynamodb: two transaction actions named " + name)
	}
	t.names = append(t.names, name)
	t.items = append(t.items, item)
}

// index is the position of the named action, -1 when there is none.
func (t *txn) index(name string) int {
	for i, n := range t.names {
		if n == name {
			return i
		}
	}
	return -1
}

// put puts item, if cond (on the item as stored) holds; cond "" is no
// condition. e holds cond's names and values (nil when it has none).
func (t *txn) put(name string, item map[string]types.AttributeValue, e *expr, cond string) {
	t.add(name, types.TransactWriteItem{Put: &types.Put{
		TableName:                           aws.String(t.table),
		Item:                                item,
		ConditionExpression:                 optional(cond),
		ExpressionAttributeNames:            e.Names(),
		ExpressionAttributeValues:           e.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}})
}

// update applies up (whose expr also holds cond's names and values) to the
// item at key, if cond holds.
func (t *txn) update(name string, key map[string]types.AttributeValue, up *update, cond string) {
	t.add(name, types.TransactWriteItem{Update: &types.Update{
		TableName:                           aws.String(t.table),
		Key:                                 key,
		UpdateExpression:                    aws.String(up.String()),
		ConditionExpression:                 optional(cond),
		ExpressionAttributeNames:            up.e.Names(),
		ExpressionAttributeValues:           up.e.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}})
}

// delete deletes the item at key, if cond holds.
func (t *txn) delete(name string, key map[string]types.AttributeValue, e *expr, cond string) {
	t.add(name, types.TransactWriteItem{Delete: &types.Delete{
		TableName:                           aws.String(t.table),
		Key:                                 key,
		ConditionExpression:                 optional(cond),
		ExpressionAttributeNames:            e.Names(),
		ExpressionAttributeValues:           e.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}})
}

// check requires cond of the item at key, changing nothing.
func (t *txn) check(name string, key map[string]types.AttributeValue, e *expr, cond string) {
	t.add(name, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName:                           aws.String(t.table),
		Key:                                 key,
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeNames:            e.Names(),
		ExpressionAttributeValues:           e.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}})
}

func optional(cond string) *string {
	if cond == "" {
		return nil
	}
	return aws.String(cond)
}

// write runs t as one TransactWriteItems with a fresh ClientRequestToken.
// The SDK would fill one in too (its idempotency-token middleware runs
// before the retry loop, so its own retries of this call reuse it and a
// retry of a transaction that did commit is answered with success instead
// of being applied twice); setting it here makes that explicit. A new call
// — after a cancellation, with new input — gets a new token.
//
// A canceled transaction (and a TransactionConflictException) is returned
// as a *txCanceled, which reads the reasons by action name and unwraps to
// the SDK's error for mapError.
func (s *Store) write(ctx context.Context, t *txn) error {
	_, err := s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems:      t.items,
		ClientRequestToken: aws.String(uuid.NewString()),
	})
	var (
		canceled *types.TransactionCanceledException
		conflict *types.TransactionConflictException
	)
	switch {
	case errors.As(err, &canceled):
		return &txCanceled{t: t, reasons: canceled.CancellationReasons, err: err}
	case errors.As(err, &conflict):
		return &txCanceled{t: t, err: err}
	}
	return err
}

// run writes t and sorts the outcome: (nil, nil) when it committed; (nil,
// err) when it failed for a reason no cancellation explains (the mapped
// SDK error) or a Guard's actor fails the Guard as their item was
// (g.Check's error); else (c, nil), a cancellation for the caller to read
// by name — and to end with s.undecided for what its own cases do not
// decide.
func (s *Store) run(ctx context.Context, op string, t *txn, guards ...babysitter.Guard) (*txCanceled, error) {
	err := s.write(ctx, t)
	c := canceled(err)
	if c == nil {
		return nil, s.mapError(op, err)
	}
	for _, g := range guards {
		if err := c.guard(g); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// undecided is the outcome of a cancellation its caller's own cases did
// not decide: try again (again) when only other transactions got in the
// way, or when a condition failed that — as the caller's Check functions
// found on the items returned — passes now; the mapped error when
// something else canceled it.
func (s *Store) undecided(op string, c *txCanceled) error {
	if c.contended() || slices.ContainsFunc(c.reasons, func(r types.CancellationReason) bool {
		return aws.ToString(r.Code) == reasonConditionFailed
	}) {
		return again(c)
	}
	return s.mapError(op, c)
}

// txCanceled is a transaction DynamoDB canceled, with its reasons — one
// per action, in request order — read by action name.
type txCanceled struct {
	t       *txn
	reasons []types.CancellationReason
	err     error
}

func (c *txCanceled) Error() string { return c.err.Error() }
func (c *txCanceled) Unwrap() error { return c.err }

// canceled returns err as a *txCanceled, or nil when it is none.
func canceled(err error) *txCanceled {
	var c *txCanceled
	if errors.As(err, &c) {
		return c
	}
	return nil
}

func (c *txCanceled) code(name string) string {
	i := c.t.index(name)
	if i < 0 {
		panic(fmt.Sprintf("dynamodb: no transaction action named %s", name))
	}
	if i >= len(c.reasons) {
		return ""
	}
	return aws.ToString(c.reasons[i].Code)
}

// failed reports whether the named action's condition failed. A name the
// transaction does not have is a programming error (panic).
func (c *txCanceled) failed(name string) bool { return c.code(name) == reasonConditionFailed }

// item is the named action's item as it was when its condition failed
// (ALL_OLD); nil when the item does not exist.
func (c *txCanceled) item(name string) map[string]types.AttributeValue {
	i := c.t.index(name)
	if !c.failed(name) || len(c.reasons[i].Item) == 0 {
		return nil
	}
	return c.reasons[i].Item
}

// guard is g.Check on the Guard's actor as the failure returned their
// item, when the actor's action (userOps.guard) failed; nil when it did
// not fail, or fails for another of its conditions (the item passes the
// Guard as it is: the caller decides on the rest).
func (c *txCanceled) guard(g babysitter.Guard) error {
	if g.Admin() {
		return nil
	}
	name := userAction(g.Actor.Username)
	if c.t.index(name) < 0 || !c.failed(name) {
		return nil
	}
	return g.Check(accountOf(c.item(name)))
}

// contended reports whether the transaction was canceled only because
// other transactions (or capacity) got in the way — no condition failed —
// so the same transaction may succeed if tried again.
func (c *txCanceled) contended() bool {
	if c.reasons == nil {
		return true // TransactionConflictException
	}
	var other bool
	for _, r := range c.reasons {
		switch aws.ToString(r.Code) {
		case reasonConditionFailed:
			return false
		case reasonTxConflict, reasonThrottled, reasonProvisionedLimit:
			other = true
		}
	}
	return other
}
