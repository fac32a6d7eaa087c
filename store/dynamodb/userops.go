package dynamodb

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/babysitter-go/babysitter"
)

// userOps collects what one transaction does to user items — counter
// changes and the Guard's condition — as ONE action per user: DynamoDB
// rejects a transaction with two actions on the same item, so the guard on
// a parent whose counter changes goes into that Update, not a separate
// ConditionCheck.
type userOps struct {
	order []string
	ops   map[string]*userOp
}

type delta struct {
	attr string
	n    int64
}

type userOp struct {
	deltas []delta
	guard  *babysitter.Guard
}

func (u *userOps) op(username string) *userOp {
	if u.ops == nil {
		u.ops = map[string]*userOp{}
	}
	o, ok := u.ops[username]
	if !ok {
		o = &userOp{}
		u.ops[username] = o
		u.order = append(u.order, username)
	}
	return o
}

// add changes a counter on the user's item; the item must exist.
func (u *userOps) add(username, attr string, n int64) {
	o := u.op(username)
	for i := range o.deltas {
		if o.deltas[i].attr == attr {
			o.deltas[i].n += n
			return
		}
	}
	o.deltas = append(o.deltas, delta{attr, n})
}

// guard puts g's condition on its actor's item (nothing for the zero Guard).
func (u *userOps) guard(g babysitter.Guard) {
	if g.Username != "" {
		u.op(g.Username).guard = &g
	}
}

// index is the position among the actions of items() of the user's action.
func (u *userOps) index(username string) int {
	for i, n := range u.order {
		if n == username {
			return i
		}
	}
	return -1
}

// items returns the actions: an Update (ADD counters, condition: the item
// exists, and the guard) for each user whose counters change, a
// ConditionCheck for a guarded actor whose counters do not. Failed
// conditions return the item (ALL_OLD).
func (u *userOps) items(table string) []types.TransactWriteItem {
	items := make([]types.TransactWriteItem, 0, len(u.order))
	for _, name := range u.order {
		o := u.ops[name]
		e := newExpr()
		cond := e.exists()
		if o.guard != nil {
			cond = e.guard(*o.guard)
		}
		if len(o.deltas) == 0 {
			items = append(items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
				TableName:                           aws.String(table),
				Key:                                 userItemKey(name),
				ConditionExpression:                 aws.String(cond),
				ExpressionAttributeNames:            e.Names(),
				ExpressionAttributeValues:           e.Values(),
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			}})
			continue
		}
		up := &update{e: e}
		for _, d := range o.deltas {
			up.Add(d.attr, d.n)
		}
		items = append(items, types.TransactWriteItem{Update: &types.Update{
			TableName:                           aws.String(table),
			Key:                                 userItemKey(name),
			UpdateExpression:                    aws.String(up.String()),
			ConditionExpression:                 aws.String(cond),
			ExpressionAttributeNames:            e.Names(),
			ExpressionAttributeValues:           e.Values(),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}})
	}
	return items
}
