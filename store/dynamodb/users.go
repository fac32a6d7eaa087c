package dynamodb

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/babysitter-go/babysitter"
)

// CreateUser puts the user and its email reservation in one
// TransactWriteItems, each conditioned on not existing; the index of the
// failed condition says which value is taken.
func (s *Store) CreateUser(ctx context.Context, u babysitter.User) error {
	const op = "CreateUser"
	item, err := userItem(u)
	if err != nil {
		return err
	}
	e0, e1 := newExpr(), newExpr()
	err = s.transactRetry(ctx, []types.TransactWriteItem{
		{Put: &types.Put{
			TableName:                aws.String(s.table),
			Item:                     item,
			ConditionExpression:      aws.String(e0.notExists()),
			ExpressionAttributeNames: e0.Names(),
		}},
		{Put: &types.Put{
			TableName:                aws.String(s.table),
			Item:                     emailItem(u.Email, u.Username),
			ConditionExpression:      aws.String(e1.notExists()),
			ExpressionAttributeNames: e1.Names(),
		}},
	})
	reasons := cancellation(err)
	switch {
	case failedAt(reasons, 0):
		return &babysitter.AlreadyExistsError{Field: babysitter.FieldUsername, Value: u.Username}
	case failedAt(reasons, 1):
		return &babysitter.AlreadyExistsError{Field: babysitter.FieldEmail, Value: u.Email}
	}
	return s.mapError(op, err)
}

// emailItem is the reservation of a (normalized) email by a user.
func emailItem(email, username string) map[string]types.AttributeValue {
	item := emailItemKey(email)
	item[attrUsername] = strValue(username)
	return item
}

// GetUser is one strongly consistent GetItem.
func (s *Store) GetUser(ctx context.Context, username string) (babysitter.User, error) {
	const op = "GetUser"
	item, err := s.getItem(ctx, userItemKey(username))
	if err != nil {
		return babysitter.User{}, s.mapError(op, err)
	}
	if item == nil {
		return babysitter.User{}, userNotFound(username)
	}
	u, err := decodeUser(item)
	return u, s.mapError(op, err)
}

// UpdateUser is one UpdateItem that sets the profile attributes, email,
// updatedOn and version (and removes the profile attributes next leaves
// empty), conditioned on the version, and on the Guard when the actor is
// the user. When the email changes — or the Guard's actor is someone
// else — it is one TransactWriteItems instead: the same Update, the old
// reservation deleted (if it is still the user's), the new one put (if
// free), the actor's ConditionCheck.
//
// A failed condition returns the stored item (ALL_OLD), which tells
// ErrNotFound, the Guard and ErrConflict apart without another read. When
// it shows next already applied (the SDK retried an UpdateItem whose first
// attempt did commit), the update succeeded.
func (s *Store) UpdateUser(ctx context.Context, g babysitter.Guard, prevEmail string, next babysitter.User) error {
	const op = "UpdateUser"
	profile, err := marshal(next.Profile)
	if err != nil {
		return err
	}
	moveEmail := next.Email != prevEmail
	self := g.Username == next.Username

	e := newExpr()
	up := (&update{e: e}).setFields(profileAttrs, profile).
		Set(attrEmail, strValue(next.Email)).
		Set(attrUpdatedOn, timeValue(next.UpdatedOn)).
		Set(attrVersion, number(next.Version))
	cond := and(e.exists(), e.eq(attrVersion, number(next.Version-1)))
	if moveEmail {
		cond = and(cond, e.eq(attrEmail, strValue(prevEmail)))
	}
	if self && g.Username != "" {
		cond = and(cond, e.guard(g))
	}

	// old is the stored user when the condition failed (nil: none).
	classify := func(old map[string]types.AttributeValue) error {
		if self {
			if err := checkGuard(g, old); err != nil {
				return err
			}
		}
		if old == nil {
			return userNotFound(next.Username)
		}
		stored, err := decodeUser(old)
		if err != nil {
			return s.mapError(op, err)
		}
		switch {
		case stored.Version == next.Version && stored.UpdatedOn.Equal(next.UpdatedOn) && stored.Email == next.Email &&
			sameAttrs(profileAttrs, old, profile):
			return nil // this very update, applied by an earlier attempt (the SDK retried it)
		case stored.Version != next.Version-1:
			return babysitter.Errorf(babysitter.ErrConflict, "user %q changed concurrently (version %d, update expects %d)", next.Username, stored.Version, next.Version-1)
		default:
			return babysitter.Errorf(babysitter.ErrConflict, "user %q: email changed concurrently", next.Username)
		}
	}

	if !moveEmail && (self || g.Username == "") {
		_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                           aws.String(s.table),
			Key:                                 userItemKey(next.Username),
			UpdateExpression:                    aws.String(up.String()),
			ConditionExpression:                 aws.String(cond),
			ExpressionAttributeNames:            e.Names(),
			ExpressionAttributeValues:           e.Values(),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			return classify(ccf.Item)
		}
		return s.mapError(op, err)
	}

	items := []types.TransactWriteItem{{Update: &types.Update{
		TableName:                           aws.String(s.table),
		Key:                                 userItemKey(next.Username),
		UpdateExpression:                    aws.String(up.String()),
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeNames:            e.Names(),
		ExpressionAttributeValues:           e.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}}
	oldIdx, newIdx := -1, -1
	if moveEmail {
		d, p := newExpr(), newExpr()
		oldIdx = len(items)
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{
			TableName:                 aws.String(s.table),
			Key:                       emailItemKey(prevEmail),
			ConditionExpression:       aws.String(d.eq(attrUsername, strValue(next.Username))),
			ExpressionAttributeNames:  d.Names(),
			ExpressionAttributeValues: d.Values(),
		}})
		newIdx = len(items)
		items = append(items, types.TransactWriteItem{Put: &types.Put{
			TableName:                aws.String(s.table),
			Item:                     emailItem(next.Email, next.Username),
			ConditionExpression:      aws.String(p.notExists()),
			ExpressionAttributeNames: p.Names(),
		}})
	}
	actorIdx := -1
	if !self && g.Username != "" {
		var uo userOps
		uo.guard(g)
		actorIdx = len(items)
		items = append(items, uo.items(s.table)...)
	}
	for attempt := 1; ; attempt++ {
		err := s.transactRetry(ctx, items)
		reasons := cancellation(err)
		if reasons == nil {
			return s.mapError(op, err)
		}
		if failedAt(reasons, actorIdx) {
			actor, rerr := s.reasonItem(ctx, reasons, actorIdx, userItemKey(g.Username))
			if rerr != nil {
				return s.mapError(op, rerr)
			}
			if gerr, retry := guardFailed(g, actor); !retry {
				return gerr
			}
		} else if failedAt(reasons, 0) {
			old, rerr := s.reasonItem(ctx, reasons, 0, userItemKey(next.Username))
			if rerr != nil {
				return s.mapError(op, rerr)
			}
			return classify(old)
		} else if failedAt(reasons, newIdx) {
			return &babysitter.AlreadyExistsError{Field: babysitter.FieldEmail, Value: next.Email}
		} else if failedAt(reasons, oldIdx) {
			return babysitter.Errorf(babysitter.ErrConflict, "user %q does not hold the email reservation %q", next.Username, prevEmail)
		} else {
			return s.mapError(op, err)
		}
		if attempt >= maxAttempts {
			return gaveUp(op, attempt, err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
}

// SetUserStatus is one UpdateItem (condition: the user exists) returning
// the updated user. Version is unchanged: a status change is not a profile
// edit and must not fail a concurrent UpdateUser.
func (s *Store) SetUserStatus(ctx context.Context, username string, status babysitter.AccountStatus, now time.Time) (babysitter.User, error) {
	const op = "SetUserStatus"
	e := newExpr()
	up := (&update{e: e}).Set(attrUserStatus, strValue(string(status))).Set(attrUpdatedOn, timeValue(now))
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       userItemKey(username),
		UpdateExpression:          aws.String(up.String()),
		ConditionExpression:       aws.String(e.exists()),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
		ReturnValues:              types.ReturnValueAllNew,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return babysitter.User{}, userNotFound(username)
	}
	if err != nil {
		return babysitter.User{}, s.mapError(op, err)
	}
	u, err := decodeUser(out.Attributes)
	return u, s.mapError(op, err)
}

// DeleteUser reads the user (for its email and to report the Guard, a
// missing user and the counters precisely), then deletes the user and the
// reservation in one TransactWriteItems whose conditions re-check all of
// it: the email, both counters at zero, the Guard. A concurrent CreateJob
// or ApplyToJob changes a counter in its own transaction, so one of the two
// fails. A canceled delete reads again (bounded).
func (s *Store) DeleteUser(ctx context.Context, g babysitter.Guard, username string) error {
	const op = "DeleteUser"
	self := g.Username == username
	for attempt := 1; ; attempt++ {
		read := g
		if self {
			read = babysitter.Guard{} // the user's own item is the actor's
		}
		items, actor, err := s.readWith(ctx, read, userItemKey(username))
		if err != nil {
			return s.mapError(op, err)
		}
		item := items[0]
		if self {
			actor = item
		}
		if err := checkGuard(g, actor); err != nil {
			return err
		}
		if item == nil {
			return userNotFound(username)
		}
		if num(item, attrOpenJobs) > 0 {
			return babysitter.Errorf(babysitter.ErrConflict, "user %q has OPEN jobs", username)
		}
		if num(item, attrPendingApps) > 0 {
			return babysitter.Errorf(babysitter.ErrConflict, "user %q has PENDING applications", username)
		}
		email := str(item, attrEmail)

		e := newExpr()
		cond := and(e.exists(), e.eq(attrEmail, strValue(email)), zeroOrMissing(e, attrOpenJobs), zeroOrMissing(e, attrPendingApps))
		if self && g.Username != "" {
			cond = and(cond, e.guard(g))
		}
		d := newExpr()
		tx := []types.TransactWriteItem{
			{Delete: &types.Delete{
				TableName:                 aws.String(s.table),
				Key:                       userItemKey(username),
				ConditionExpression:       aws.String(cond),
				ExpressionAttributeNames:  e.Names(),
				ExpressionAttributeValues: e.Values(),
			}},
			{Delete: &types.Delete{
				TableName:                 aws.String(s.table),
				Key:                       emailItemKey(email),
				ConditionExpression:       aws.String(d.notExists() + " OR " + d.eq(attrUsername, strValue(username))),
				ExpressionAttributeNames:  d.Names(),
				ExpressionAttributeValues: d.Values(),
			}},
		}
		if !self && g.Username != "" {
			var uo userOps
			uo.guard(g)
			tx = append(tx, uo.items(s.table)...)
		}
		err = s.transact(ctx, tx)
		if cancellation(err) == nil {
			return s.mapError(op, err)
		}
		if attempt >= maxAttempts {
			return gaveUp(op, attempt, err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
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
