package dynamodb

import (
	"github.com/babysitter-go/babysitter"
)

// userOps collects what one transaction does to user items — counter
// changes, the Guard's condition, an applicant's account condition — as
// ONE action per user, named userAction(username): DynamoDB rejects a
// transaction with two actions on the same item, so the Guard on a parent
// whose counter changes goes into that Update, not a separate
// ConditionCheck.
type userOps struct {
	order []string
	ops   map[string]*userOp
}

type delta struct {
	attr string
	n    int64
}

// account is a condition on an account: its type, and its status one of
// allow.
type account struct {
	typ   babysitter.UserType
	allow []babysitter.AccountStatus
	// guard: the actor's own account, which must also be bound to subject
	// (or to none); false for an applicant's.
	guard   bool
	subject string
}

type userOp struct {
	deltas   []delta
	accounts []account
}

// userAction is the name of a user's action in a transaction.
func userAction(username string) string { return "user:" + username }

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

// exists requires the user's item to exist.
func (u *userOps) exists(username string) { u.op(username) }

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

// guard puts g's condition on its actor's item: exists, bound to the
// actor's subject or to none, of the type the actor's role acts through,
// in one of the allowed statuses. An admin has
// no account to check: nothing.
func (u *userOps) guard(g babysitter.Guard) {
	if !g.Admin() {
		o := u.op(g.Actor.Username)
		o.accounts = append(o.accounts, account{typ: g.AccountType(), allow: guardStatuses(g), guard: true, subject: g.Actor.Subject})
	}
}

// require makes the user's account a t account in one of the allowed
// statuses.
func (u *userOps) require(username string, t babysitter.UserType, allow []babysitter.AccountStatus) {
	o := u.op(username)
	o.accounts = append(o.accounts, account{typ: t, allow: allow})
}

// addTo adds the actions to t: an Update (ADD the counters; condition: the
// item exists, and the account conditions) for each user whose counters
// change, a ConditionCheck for the others.
func (u *userOps) addTo(t *txn) {
	for _, name := range u.order {
		o := u.ops[name]
		e := newExpr()
		conds := []string{e.exists()}
		for _, a := range o.accounts {
			if a.guard {
				conds = append(conds, e.bound(a.subject))
			}
			conds = append(conds, e.account(a.typ, a.allow))
		}
		cond := and(conds...)
		if len(o.deltas) == 0 {
			t.check(userAction(name), userItemKey(name), e, cond)
			continue
		}
		up := &update{e: e}
		for _, d := range o.deltas {
			up.Add(d.attr, d.n)
		}
		t.update(userAction(name), userItemKey(name), up, cond)
	}
}
