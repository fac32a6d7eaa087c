package dynamodb

import (
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/babysitter-go/babysitter"
)

// expr collects the attribute names and values of one request's
// expressions as #n0, :v0 … placeholders, so no attribute name ever
// collides with a reserved word ("status") and no value is spliced in.
type expr struct {
	names  map[string]string
	values map[string]types.AttributeValue
	byName map[string]string
}

func newExpr() *expr {
	return &expr{names: map[string]string{}, values: map[string]types.AttributeValue{}, byName: map[string]string{}}
}

// n returns the placeholder of an attribute name.
func (e *expr) n(name string) string {
	if p, ok := e.byName[name]; ok {
		return p
	}
	p := "#n" + strconv.Itoa(len(e.byName))
	e.byName[name] = p
	e.names[p] = name
	return p
}

// v returns a placeholder for a value.
func (e *expr) v(av types.AttributeValue) string {
	p := ":v" + strconv.Itoa(len(e.values))
	e.values[p] = av
	return p
}

// sv is v for a string.
func (e *expr) sv(value string) string { return e.v(strValue(value)) }

// Names and Values are the maps for the request; nil when empty (or e is
// nil), as DynamoDB rejects empty maps.
func (e *expr) Names() map[string]string {
	if e == nil || len(e.names) == 0 {
		return nil
	}
	return e.names
}

func (e *expr) Values() map[string]types.AttributeValue {
	if e == nil || len(e.values) == 0 {
		return nil
	}
	return e.values
}

// exists is attribute_exists(PK): the item is there.
func (e *expr) exists() string { return "attribute_exists(" + e.n(attrPK) + ")" }

// notExists is attribute_not_exists(PK): the item is not there.
func (e *expr) notExists() string { return "attribute_not_exists(" + e.n(attrPK) + ")" }

// eq is name = value.
func (e *expr) eq(name string, value types.AttributeValue) string {
	return e.n(name) + " = " + e.v(value)
}

// in is name IN (values…); it is never true for no values.
func (e *expr) in(name string, values []string) string {
	if len(values) == 0 {
		return "(" + e.exists() + " AND " + e.notExists() + ")"
	}
	ps := make([]string, len(values))
	for i, v := range values {
		ps[i] = e.sv(v)
	}
	return e.n(name) + " IN (" + strings.Join(ps, ", ") + ")"
}

// ne is name <> value.
func (e *expr) ne(name string, value types.AttributeValue) string {
	return e.n(name) + " <> " + e.v(value)
}

// account is the condition on a user item that babysitter.Guard.Check and
// babysitter.CheckApplicant decide on the item as read: its type is t and
// its status one of allow. (The item's existence is exists.)
func (e *expr) account(t babysitter.UserType, allow []babysitter.AccountStatus) string {
	statuses := make([]string, len(allow))
	for i, st := range allow {
		statuses[i] = string(st)
	}
	return e.eq(attrUserType, strValue(string(t))) + " AND " + e.in(attrUserStatus, statuses)
}

// guard is the Guard's condition on the actor's user item, what g.Check
// decides: it exists, it is bound to the actor's subject or to none, its
// type is the one the actor's role acts through, its status is allowed.
// Only for a Guard on a non-admin actor: an admin has no account to check.
func (e *expr) guard(g babysitter.Guard) string {
	return e.exists() + " AND " + e.bound(g.Actor.Subject) + " AND " + e.account(g.AccountType(), guardStatuses(g))
}

// bound is the condition that a user item is bound to subject or to none
// (babysitter.User's boundTo, through Guard.Check).
func (e *expr) bound(subject string) string {
	none := "attribute_not_exists(" + e.n(attrSubject) + ")"
	if subject == "" {
		return none
	}
	return "(" + none + " OR " + e.eq(attrSubject, strValue(subject)) + ")"
}

// guardStatuses are the statuses g.Check lets through: g.Allow without
// DEACTIVATED, which it refuses whatever Allow lists.
func guardStatuses(g babysitter.Guard) []babysitter.AccountStatus {
	return slices.DeleteFunc(slices.Clone(g.Allow), func(st babysitter.AccountStatus) bool {
		return st == babysitter.StatusDeactivated
	})
}

// and joins the non-empty conditions.
func and(conds ...string) string {
	var out []string
	for _, c := range conds {
		if c != "" {
			out = append(out, c)
		}
	}
	return strings.Join(out, " AND ")
}

// update builds an update expression's SET, ADD and REMOVE clauses.
type update struct {
	e                *expr
	set, add, remove []string
}

func (u *update) Set(name string, value types.AttributeValue) *update {
	u.set = append(u.set, u.e.n(name)+" = "+u.e.v(value))
	return u
}

func (u *update) Add(name string, n int64) *update {
	u.add = append(u.add, u.e.n(name)+" "+u.e.v(number(n)))
	return u
}

func (u *update) Remove(name string) *update {
	u.remove = append(u.remove, u.e.n(name))
	return u
}

func (u *update) String() string {
	var b strings.Builder
	for _, c := range []struct {
		kw    string
		parts []string
	}{{"SET ", u.set}, {"ADD ", u.add}, {"REMOVE ", u.remove}} {
		if len(c.parts) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(c.kw)
		b.WriteString(strings.Join(c.parts, ", "))
	}
	return b.String()
}

// setFields adds SET for each of names present in attrs and REMOVE for
// each absent (an omitted optional field, which must not keep its old
// value).
func (u *update) setFields(names []string, attrs map[string]types.AttributeValue) *update {
	for _, n := range names {
		if v, ok := attrs[n]; ok {
			u.Set(n, v)
		} else {
			u.Remove(n)
		}
	}
	return u
}
