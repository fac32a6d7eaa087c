package dynamodb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/babysitter-go/babysitter"
)

// Attribute names of version 2 on user items (userItem).
const (
	attrUploads        = "uploads"        // map: upload ID → uploadItem
	attrUploadsVersion = "uploadsVersion" // babysitter.UserUploads.Version
	attrVerification   = "verification"
	attrProfilePicURL  = "profilePicUrl"
	attrUploadState    = "state" // uploadItem.State
	attrUploadKind     = "kind"  // uploadItem.Kind
)

// encodeValue is v (part of an item struct) as one attribute value.
func encodeValue(v any) (types.AttributeValue, error) {
	av, err := encoder.Encode(v)
	if err != nil {
		return nil, fmt.Errorf("dynamodb: encode %T: %w", v, err)
	}
	return av, nil
}

// versionIs is the condition "counter attr is n" (0: or never set).
func versionIs(e *expr, attr string, n int64) string {
	if n == 0 {
		return zeroOrMissing(e, attr)
	}
	return e.eq(attr, number(n))
}

// SetUserStatus is one UpdateItem returning the updated user: SET status
// and updatedOn, and the verification record (with v = 2) or REMOVE it.
// Condition: the user exists, and for a VERIFIED decision on a document
// the document is one of the user's — uploads.<id> confirmed, of kind
// document — as babysitter.CheckStatusUpdate says; on a failure that
// function, on the item returned (ALL_OLD), gives the error, and when the
// item passes it now the update is tried again (retry). Version is
// unchanged: a status change is not a profile edit and must not fail a
// concurrent UpdateUser.
func (s *Store) SetUserStatus(ctx context.Context, st babysitter.StatusUpdate) (babysitter.User, error) {
	const op = "SetUserStatus"
	e := newExpr()
	up := (&update{e: e}).Set(attrUserStatus, strValue(string(st.Status))).Set(attrUpdatedOn, timeValue(st.At))
	cond := e.exists()
	if v := st.Verification; v != nil {
		av, err := encodeValue(verificationItemOf(v))
		if err != nil {
			return babysitter.User{}, err
		}
		up.Set(attrVerification, av).Set(attrSchema, number(2))
		if v.UploadID != "" {
			doc := e.n(attrUploads) + "." + e.n(v.UploadID) + "."
			cond = and(cond,
				doc+e.n(attrUploadState)+" = "+e.sv(uploadConfirmed),
				doc+e.n(attrUploadKind)+" = "+e.sv(string(babysitter.UploadDocument)))
		}
	} else {
		up.Remove(attrVerification)
	}
	var item map[string]types.AttributeValue
	err := retry(ctx, op, func() error {
		var err error
		item, err = s.updateItem(ctx, op, userItemKey(st.Username), up, cond, func(old map[string]types.AttributeValue, cause error) error {
			cur, err := decodeOrNil(old, decodeUser)
			if err != nil {
				return s.mapError(op, err)
			}
			if err := babysitter.CheckStatusUpdate(cur, st); err != nil {
				return err
			}
			return again(cause)
		})
		return err
	})
	if err != nil {
		return babysitter.User{}, err
	}
	u, err := decodeUser(item)
	return u, s.mapError(op, err)
}

// UpdateUploads reads the user (with the Guard's actor), applies c with
// babysitter.ApplyUploadChange, and writes what it changed in one
// UpdateItem: SET uploads (REMOVE when empty), uploadsVersion, v = 2, and
// profilePicUrl and updatedOn when they change; condition: uploadsVersion
// is still the one read (and the Guard, when the actor is the user; for
// another non-admin actor the write is a TransactWriteItems with the
// actor's ConditionCheck). A write that finds the uploads changed since
// the read reads and decides again (retry). 1 GetItem + 1 UpdateItem;
// nothing is written when c changes nothing.
func (s *Store) UpdateUploads(ctx context.Context, g babysitter.Guard, c babysitter.UploadChange) (babysitter.User, error) {
	const op = "UpdateUploads"
	self := !g.Admin() && g.Actor.Username == c.Username
	var out babysitter.User
	err := retry(ctx, op, func() error {
		items, err := s.read(ctx, g, userItemKey(c.Username))
		if err != nil {
			return s.mapError(op, err)
		}
		cur, err := decodeOrNil(items[0], decodeUser)
		if err != nil {
			return s.mapError(op, err)
		}
		next, changed, err := babysitter.ApplyUploadChange(cur, c)
		if err != nil || !changed {
			out = next
			return err
		}

		e := newExpr()
		up := (&update{e: e}).Set(attrUploadsVersion, number(next.Uploads.Version)).Set(attrSchema, number(2))
		if m := uploadsItemOf(next); len(m) > 0 {
			av, err := encodeValue(m)
			if err != nil {
				return err
			}
			up.Set(attrUploads, av)
		} else {
			up.Remove(attrUploads)
		}
		if next.ProfilePicURL != cur.ProfilePicURL {
			up.Set(attrProfilePicURL, strValue(next.ProfilePicURL))
		}
		if !next.UpdatedOn.Equal(cur.UpdatedOn) {
			up.Set(attrUpdatedOn, timeValue(next.UpdatedOn))
		}
		cond := and(e.exists(), versionIs(e, attrUploadsVersion, cur.Uploads.Version))
		if self {
			cond = and(cond, e.guard(g))
		}
		if self || g.Admin() {
			_, err = s.updateItem(ctx, op, userItemKey(c.Username), up, cond, func(old map[string]types.AttributeValue, cause error) error {
				if self {
					if err := g.Check(accountOf(old)); err != nil {
						return err
					}
				}
				return again(cause) // changed since the read (or gone): read and decide again
			})
		} else {
			t := newTxn(s.table)
			t.update("user", userItemKey(c.Username), up, cond)
			var uo userOps
			uo.guard(g)
			uo.addTo(t)
			var ct *txCanceled
			if ct, err = s.run(ctx, op, t, g); ct != nil {
				err = s.undecided(op, ct)
			}
		}
		if err == nil {
			out = next
		}
		return err
	})
	return out, err
}
