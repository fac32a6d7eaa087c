package dynamodb

import (
	"context"
	"reflect"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/babysitter-go/babysitter"
)

// CreateUser is one TransactWriteItems: Put the user and Put its email
// reservation, each if absent, and a ConditionCheck that the username has
// no tombstone (a deleted username is never registered again). The name of
// the failed condition says which value is taken.
func (s *Store) CreateUser(ctx context.Context, u babysitter.User) error {
	const op = "CreateUser"
	item, err := encodeUser(u)
	if err != nil {
		return err
	}
	email, err := encodeEmail(u.Email, u.Username)
	if err != nil {
		return err
	}
	t := newTxn(s.table)
	eu, ee, et := newExpr(), newExpr(), newExpr()
	t.put("user", item, eu, eu.notExists())
	t.put("email", email, ee, ee.notExists())
	t.check("tombstone", tombstoneItemKey(u.Username), et, et.notExists())
	return retry(ctx, op, func() error {
		c, err := s.run(ctx, op, t)
		switch {
		case c == nil:
			return err
		case c.failed("user"), c.failed("tombstone"):
			return babysitter.UsernameTaken(u.Username)
		case c.failed("email"):
			return babysitter.EmailTaken(u.Email)
		}
		return s.undecided(op, c)
	})
}

// GetUser is one strongly consistent GetItem.
func (s *Store) GetUser(ctx context.Context, username string) (babysitter.User, error) {
	const op = "GetUser"
	item, err := s.getItem(ctx, userItemKey(username))
	if err != nil {
		return babysitter.User{}, s.mapError(op, err)
	}
	if item == nil {
		return babysitter.User{}, babysitter.UserNotFound(username)
	}
	u, err := decodeUser(item)
	return u, s.mapError(op, err)
}

// UpdateUser is one UpdateItem that sets the profile attributes, email,
// updatedOn and version (and removes the profile attributes next leaves
// empty) under the conditions of babysitter.CheckUserUpdate — the user
// exists, version = next's previous, email = prevEmail — and, when the
// actor is the user, the Guard's. When the email changes — or the Guard
// is on someone else than the user and not an admin — it is one
// TransactWriteItems instead: the same Update, the old reservation
// deleted (if it is the user's), the new one put (if free), the actor's
// ConditionCheck.
//
// A failed condition returns the stored item (ALL_OLD): g.Check and
// CheckUserUpdate on it give the error without another read. When it
// shows next already applied (the SDK retried an UpdateItem whose first
// attempt did commit), the update succeeded; when it passes both checks
// now, the update is tried again (retry).
func (s *Store) UpdateUser(ctx context.Context, g babysitter.Guard, prevEmail string, next babysitter.User) error {
	const op = "UpdateUser"
	if err := guardable(g); err != nil {
		return err
	}
	profile, err := marshal(profileItemOf(next.Profile))
	if err != nil {
		return err
	}
	moveEmail := next.Email != prevEmail
	self := !g.Admin() && g.Actor.Username == next.Username

	e := newExpr()
	up := (&update{e: e}).setFields(profileAttrs, profile).
		Set(attrEmail, strValue(next.Email)).
		Set(attrUpdatedOn, timeValue(next.UpdatedOn)).
		Set(attrVersion, number(next.Version))
	cond := and(e.exists(), e.eq(attrVersion, number(next.Version-1)), e.eq(attrEmail, strValue(prevEmail)))
	if self {
		cond = and(cond, e.guard(g))
	}

	// decide is the outcome of a failed condition on the user's item, as
	// the failure returned it (nil: no user).
	decide := func(old map[string]types.AttributeValue, cause error) error {
		if self {
			if err := g.Check(accountOf(old)); err != nil {
				return err
			}
		}
		cur, err := decodeOrNil(old, decodeUser)
		if err != nil {
			return s.mapError(op, err)
		}
		if cur != nil && cur.Version == next.Version && cur.UpdatedOn.Equal(next.UpdatedOn) && cur.Email == next.Email &&
			sameAttrs(profileAttrs, old, profile) {
			return nil // this very update, applied by an earlier attempt (the SDK retried it)
		}
		if err := babysitter.CheckUserUpdate(cur, prevEmail, next); err != nil {
			return err
		}
		return again(cause)
	}

	if !moveEmail && (self || g.Admin()) {
		return retry(ctx, op, func() error {
			_, err := s.updateItem(ctx, op, userItemKey(next.Username), up, cond, decide)
			return err
		})
	}

	t := newTxn(s.table)
	t.update("user", userItemKey(next.Username), up, cond)
	if moveEmail {
		d, p := newExpr(), newExpr()
		t.delete("oldEmail", emailItemKey(prevEmail), d, d.notExists()+" OR "+d.eq(attrUsername, strValue(next.Username)))
		newEmail, err := encodeEmail(next.Email, next.Username)
		if err != nil {
			return err
		}
		t.put("newEmail", newEmail, p, p.notExists())
	}
	if !self {
		var uo userOps
		uo.guard(g)
		uo.addTo(t)
	}
	return retry(ctx, op, func() error {
		c, err := s.run(ctx, op, t, g)
		switch {
		case c == nil:
			return err
		case c.failed("user"):
			return decide(c.item("user"), c)
		case moveEmail && c.failed("newEmail"):
			return babysitter.EmailTaken(next.Email)
		case moveEmail && c.failed("oldEmail"):
			// The old reservation is another user's: an inconsistent
			// table, not a rule.
			return s.mapError(op, c)
		}
		return s.undecided(op, c)
	})
}

// DeleteUser reads the user (with the Guard's actor), decides with g.Check
// and babysitter.CheckUserDelete on what it read, then in one
// TransactWriteItems deletes the user and the reservation, puts the
// username's tombstone and, when the account has objects, the erasure
// item of their keys (babysitter.ErasureOf), under conditions that say the
// same again: the user exists with the email read, openJobs at zero and
// uploadsVersion as read — so the erasure names every object — (the
// Guard's too when the actor is the user; else the actor's
// ConditionCheck). A concurrent CreateJob changes openJobs in its own
// transaction, so one of the two fails. A canceled delete reads and
// decides again (retry).
func (s *Store) DeleteUser(ctx context.Context, g babysitter.Guard, username string, now time.Time) (babysitter.Erasure, error) {
	const op = "DeleteUser"
	self := !g.Admin() && g.Actor.Username == username
	tombstone, err := encodeTombstone(username, now)
	if err != nil {
		return babysitter.Erasure{}, err
	}
	var erasure babysitter.Erasure
	err = retry(ctx, op, func() error {
		items, err := s.read(ctx, g, userItemKey(username))
		if err != nil {
			return s.mapError(op, err)
		}
		cur, err := decodeOrNil(items[0], decodeUser)
		if err != nil {
			return s.mapError(op, err)
		}
		if err := babysitter.CheckUserDelete(username, cur, num(items[0], attrOpenJobs)); err != nil {
			return err
		}

		t := newTxn(s.table)
		e := newExpr()
		cond := and(e.exists(), e.eq(attrEmail, strValue(cur.Email)), zeroOrMissing(e, attrOpenJobs),
			versionIs(e, attrUploadsVersion, cur.Uploads.Version))
		if self {
			cond = and(cond, e.guard(g))
		}
		t.delete("user", userItemKey(username), e, cond)
		d := newExpr()
		t.delete("email", emailItemKey(cur.Email), d, d.notExists()+" OR "+d.eq(attrUsername, strValue(username)))
		t.put("tombstone", tombstone, nil, "")
		erasure = babysitter.ErasureOf(*cur, now)
		if len(erasure.Keys) > 0 {
			item, err := encodeErasure(erasure)
			if err != nil {
				return err
			}
			t.put("erasure", item, nil, "")
		}
		if !self {
			var uo userOps
			uo.guard(g)
			uo.addTo(t)
		}
		c, err := s.run(ctx, op, t, g)
		switch {
		case c == nil:
			return err
		case c.failed("email"):
			// The reservation is another user's: an inconsistent table,
			// not a rule.
			return s.mapError(op, c)
		}
		return s.undecided(op, c) // read and decide again
	})
	if err != nil {
		return babysitter.Erasure{}, err
	}
	return erasure, nil
}

// sameAttrs reports whether a and b hold the same values of names.
func sameAttrs(names []string, a, b map[string]types.AttributeValue) bool {
	for _, n := range names {
		if !reflect.DeepEqual(a[n], b[n]) {
			return false
		}
	}
	return true
}

// zeroOrMissing is the condition "counter is 0 (or was never set)".
func zeroOrMissing(e *expr, attr string) string {
	return "(attribute_not_exists(" + e.n(attr) + ") OR " + e.eq(attr, number(0)) + ")"
}

// num reads a number attribute; 0 when missing or malformed.
func num(item map[string]types.AttributeValue, name string) int64 {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}

// timeValue is a time as stored: RFC 3339 with nanoseconds, the encoding
// the attributevalue package uses for time.Time fields.
func timeValue(t time.Time) types.AttributeValue {
	return strValue(t.Format(time.RFC3339Nano))
}

// ListUsers is one Query of the byStatus index (GSI2PK = USERTYPE#<type>,
// ascending by username), with the actor's GetItem beside it when guarded.
func (s *Store) ListUsers(ctx context.Context, g babysitter.Guard, t babysitter.UserType, p babysitter.PageRequest) (babysitter.Page[babysitter.User], error) {
	const op = "ListUsers"
	l := list{
		scope: "users:" + string(t),
		index: IndexByStatus, pkAttr: attrGSI2PK, skAttr: attrGSI2SK,
		pk: userTypeKey(t),
		lo: prefixUser, prefix: prefixUser,
		forward: true,
		valid: func(k map[string]string) bool {
			return k[attrPK] == k[attrSK] && k[attrPK] == k[attrGSI2SK]
		},
	}
	return guardedPage(ctx, s, op, g, l, p, decodeUser)
}
