package dynamodb

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/babysitter-go/babysitter"
)

// CreateJob is one TransactWriteItems: Put the job (if its ID is new) and
// Update the parent (must exist; the Guard's condition when the parent is
// the actor) adding 1 to openJobs, plus a ConditionCheck of the actor when
// that is someone else.
func (s *Store) CreateJob(ctx context.Context, g babysitter.Guard, j babysitter.Job) error {
	const op = "CreateJob"
	j.Status = babysitter.JobOpen
	item, err := jobItem(j)
	if err != nil {
		return err
	}
	e := newExpr()
	var uo userOps
	uo.add(j.ParentUsername, attrOpenJobs, 1)
	uo.guard(g)
	items := append([]types.TransactWriteItem{{Put: &types.Put{
		TableName:                aws.String(s.table),
		Item:                     item,
		ConditionExpression:      aws.String(e.notExists()),
		ExpressionAttributeNames: e.Names(),
	}}}, uo.items(s.table)...)
	parentIdx, actorIdx := 1+uo.index(j.ParentUsername), 1+uo.index(g.Username)

	for attempt := 1; ; attempt++ {
		err := s.transactRetry(ctx, items)
		reasons := cancellation(err)
		switch {
		case reasons == nil:
			return s.mapError(op, err)
		case g.Username != "" && failedAt(reasons, actorIdx):
			actor, rerr := s.reasonItem(ctx, reasons, actorIdx, userItemKey(g.Username))
			if rerr != nil {
				return s.mapError(op, rerr)
			}
			if gerr, retry := guardFailed(g, actor); !retry {
				return gerr
			} // else the actor passes the guard now: try again
		case failedAt(reasons, parentIdx):
			return userNotFound(j.ParentUsername)
		case failedAt(reasons, 0):
			return babysitter.Errorf(babysitter.ErrConflict, "job %q already exists", j.ID)
		default:
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

// GetJob is one strongly consistent GetItem, or with a Guard one
// BatchGetItem (ConsistentRead) of the job and the actor's user item.
func (s *Store) GetJob(ctx context.Context, g babysitter.Guard, id string) (babysitter.Job, error) {
	const op = "GetJob"
	items, actor, err := s.readWith(ctx, g, jobItemKey(id))
	if err != nil {
		return babysitter.Job{}, s.mapError(op, err)
	}
	if err := checkGuard(g, actor); err != nil {
		return babysitter.Job{}, err
	}
	if items[0] == nil {
		return babysitter.Job{}, jobNotFound(id)
	}
	j, err := decodeJob(items[0])
	return j, s.mapError(op, err)
}

// UpdateJob is one UpdateItem setting the job details, updatedOn and
// version under the condition status = OPEN AND version = previous AND
// (owner) username = owner; with a Guard it is one TransactWriteItems of
// that Update and the actor's ConditionCheck. A failed condition returns
// the stored job (ALL_OLD), which tells ErrNotFound, ErrForbidden and
// ErrConflict apart without another read.
func (s *Store) UpdateJob(ctx context.Context, g babysitter.Guard, owner string, next babysitter.Job) error {
	const op = "UpdateJob"
	details, err := marshal(next.JobDetails)
	if err != nil {
		return err
	}
	e := newExpr()
	up := (&update{e: e}).setFields(jobDetailsAttrs, details).
		Set(attrUpdatedOn, timeValue(next.UpdatedOn)).
		Set(attrVersion, number(next.Version))
	// The job is OPEN (the condition says so) and may have moved: its
	// byCell keys follow its location.
	geo := geoKeys(next.ID, next.Latitude, next.Longitude)
	up.Set(attrGSI3PK, strValue(geo[attrGSI3PK])).Set(attrGSI3SK, strValue(geo[attrGSI3SK]))
	cond := and(e.exists(), e.eq(attrJobStatus, strValue(string(babysitter.JobOpen))), e.eq(attrVersion, number(next.Version-1)))
	if owner != "" {
		cond = and(cond, e.eq(attrUsername, strValue(owner)))
	}
	classify := func(old map[string]types.AttributeValue) error {
		if old == nil {
			return jobNotFound(next.ID)
		}
		j, err := decodeJob(old)
		switch {
		case err != nil:
			return s.mapError(op, err)
		case owner != "" && j.ParentUsername != owner:
			return notOwner(owner, j.ID)
		case j.Version == next.Version && j.UpdatedOn.Equal(next.UpdatedOn) && j.JobDetails == next.JobDetails:
			return nil // this very update, applied by an earlier attempt
		case j.Status != babysitter.JobOpen:
			return jobNotIn(j, babysitter.JobOpen)
		default:
			return babysitter.Errorf(babysitter.ErrConflict, "job %q changed concurrently (version %d, update expects %d)", j.ID, j.Version, next.Version-1)
		}
	}
	if g.Username == "" {
		_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                           aws.String(s.table),
			Key:                                 jobItemKey(next.ID),
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

	var uo userOps
	uo.guard(g)
	items := append([]types.TransactWriteItem{{Update: &types.Update{
		TableName:                           aws.String(s.table),
		Key:                                 jobItemKey(next.ID),
		UpdateExpression:                    aws.String(up.String()),
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeNames:            e.Names(),
		ExpressionAttributeValues:           e.Values(),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}}, uo.items(s.table)...)
	for attempt := 1; ; attempt++ {
		err := s.transactRetry(ctx, items)
		reasons := cancellation(err)
		switch {
		case reasons == nil:
			return s.mapError(op, err)
		case failedAt(reasons, 1):
			actor, rerr := s.reasonItem(ctx, reasons, 1, userItemKey(g.Username))
			if rerr != nil {
				return s.mapError(op, rerr)
			}
			if gerr, retry := guardFailed(g, actor); !retry {
				return gerr
			}
		case failedAt(reasons, 0):
			old, rerr := s.reasonItem(ctx, reasons, 0, jobItemKey(next.ID))
			if rerr != nil {
				return s.mapError(op, rerr)
			}
			return classify(old)
		default:
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

// TransitionJob moves a job between statuses, updating GSI2PK with the
// status. When it leaves OPEN (→ CANCELLED) the parent's openJobs goes down
// in the same transaction, and the job leaves the byCell index (REMOVE
// GSI3PK, GSI3SK; a job not OPEN never has them, so the REMOVE is a no-op
// for the other transitions).
//
// Without a Guard and without a counter change it is one UpdateItem
// (ReturnValues ALL_NEW). Otherwise it is one strongly consistent read of
// the job (and the actor: BatchGetItem) and one TransactWriteItems whose
// job Update is conditioned on the status and the version read: a
// transaction returns no values, and the read is what the updated job is
// built from (and what reports ErrNotFound, ErrForbidden, ErrConflict
// precisely). A canceled transaction reads again (bounded).
func (s *Store) TransitionJob(ctx context.Context, g babysitter.Guard, id, owner string, from, to babysitter.JobStatus, now time.Time) (babysitter.Job, error) {
	const op = "TransitionJob"
	leavesOpen := from == babysitter.JobOpen && to != babysitter.JobOpen

	if g.Username == "" && !leavesOpen {
		e := newExpr()
		up := (&update{e: e}).Set(attrJobStatus, strValue(string(to))).
			Set(attrGSI2PK, strValue(jobStatusKey(to))).
			Set(attrUpdatedOn, timeValue(now))
		leaveCellIndex(up, to)
		cond := and(e.exists(), e.eq(attrJobStatus, strValue(string(from))))
		if owner != "" {
			cond = and(cond, e.eq(attrUsername, strValue(owner)))
		}
		out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                           aws.String(s.table),
			Key:                                 jobItemKey(id),
			UpdateExpression:                    aws.String(up.String()),
			ConditionExpression:                 aws.String(cond),
			ExpressionAttributeNames:            e.Names(),
			ExpressionAttributeValues:           e.Values(),
			ReturnValues:                        types.ReturnValueAllNew,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			if ccf.Item == nil {
				return babysitter.Job{}, jobNotFound(id)
			}
			j, err := decodeJob(ccf.Item)
			switch {
			case err != nil:
				return babysitter.Job{}, s.mapError(op, err)
			case owner != "" && j.ParentUsername != owner:
				return babysitter.Job{}, notOwner(owner, id)
			case j.Status == to && j.UpdatedOn.Equal(now):
				return j, nil // this very transition, applied by an earlier attempt
			default:
				return babysitter.Job{}, jobNotIn(j, from)
			}
		}
		if err != nil {
			return babysitter.Job{}, s.mapError(op, err)
		}
		j, err := decodeJob(out.Attributes)
		return j, s.mapError(op, err)
	}

	for attempt := 1; ; attempt++ {
		items, actor, err := s.readWith(ctx, g, jobItemKey(id))
		if err != nil {
			return babysitter.Job{}, s.mapError(op, err)
		}
		if err := checkGuard(g, actor); err != nil {
			return babysitter.Job{}, err
		}
		if items[0] == nil {
			return babysitter.Job{}, jobNotFound(id)
		}
		j, err := decodeJob(items[0])
		if err != nil {
			return babysitter.Job{}, s.mapError(op, err)
		}
		if owner != "" && j.ParentUsername != owner {
			return babysitter.Job{}, notOwner(owner, id)
		}
		if j.Status != from {
			return babysitter.Job{}, jobNotIn(j, from)
		}

		e := newExpr()
		up := (&update{e: e}).Set(attrJobStatus, strValue(string(to))).
			Set(attrGSI2PK, strValue(jobStatusKey(to))).
			Set(attrUpdatedOn, timeValue(now))
		leaveCellIndex(up, to)
		cond := and(e.exists(),
			e.eq(attrJobStatus, strValue(string(from))),
			e.eq(attrVersion, number(j.Version)),
			e.eq(attrUsername, strValue(j.ParentUsername)))
		var uo userOps
		if leavesOpen {
			uo.add(j.ParentUsername, attrOpenJobs, -1)
		}
		uo.guard(g)
		tx := append([]types.TransactWriteItem{{Update: &types.Update{
			TableName:                 aws.String(s.table),
			Key:                       jobItemKey(id),
			UpdateExpression:          aws.String(up.String()),
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeNames:  e.Names(),
			ExpressionAttributeValues: e.Values(),
		}}}, uo.items(s.table)...)
		err = s.transact(ctx, tx)
		if err == nil {
			j.Status, j.UpdatedOn = to, now
			return j, nil
		}
		if cancellation(err) == nil {
			return babysitter.Job{}, s.mapError(op, err)
		}
		if attempt >= maxAttempts {
			return babysitter.Job{}, gaveUp(op, attempt, err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return babysitter.Job{}, err
		}
	}
}

// leaveCellIndex removes the byCell index keys in an update that moves a
// job to status to, unless to is OPEN: only OPEN jobs are in that index.
func leaveCellIndex(up *update, to babysitter.JobStatus) {
	if to != babysitter.JobOpen {
		up.Remove(attrGSI3PK).Remove(attrGSI3SK)
	}
}

// ListJobsByStatus is one Query of the byStatus index (GSI2PK =
// JOBSTATUS#<status>, newest first), with the actor's GetItem beside it
// when guarded.
func (s *Store) ListJobsByStatus(ctx context.Context, g babysitter.Guard, status babysitter.JobStatus, p babysitter.PageRequest) (babysitter.Page[babysitter.Job], error) {
	const op = "ListJobsByStatus"
	l := list{
		scope: "jobs:" + string(status),
		index: IndexByStatus, pkAttr: attrGSI2PK, skAttr: attrGSI2SK,
		pk: jobStatusKey(status),
		lo: prefixJob, prefix: prefixJob,
		valid: func(k map[string]string) bool {
			return k[attrPK] == k[attrSK] && k[attrPK] == k[attrGSI2SK]
		},
	}
	return guardedPage(ctx, s, op, g, l, p, decodeJob)
}

// ListJobsByParent is one Query of the byUser index: GSI1PK = USER#<parent>
// and GSI1SK between "JOB#" and "USER#<parent>", newest first, so the
// parent's own item comes first and then the jobs. Later pages start after
// the cursor and so lack the parent's item: it is read with a GetItem
// beside the Query. A Guard on the parent is checked on that item; on
// someone else, with a GetItem of theirs beside the Query.
func (s *Store) ListJobsByParent(ctx context.Context, g babysitter.Guard, parent string, p babysitter.PageRequest) (babysitter.User, babysitter.Page[babysitter.Job], error) {
	const op = "ListJobsByParent"
	l := list{
		scope: "parent-jobs:" + parent,
		index: IndexByUser, pkAttr: attrGSI1PK, skAttr: attrGSI1SK,
		pk: userKey(parent),
		lo: prefixJob, hi: userKey(parent), prefix: prefixJob,
		valid: func(k map[string]string) bool {
			return k[attrPK] == k[attrSK] && k[attrPK] == k[attrGSI1SK]
		},
	}
	u, items, more, n, err := s.listWithUser(ctx, g, l, parent, p)
	if err != nil {
		return babysitter.User{}, babysitter.Page[babysitter.Job]{}, s.mapError(op, err)
	}
	page, err := pageOf(l, items, more, n, decodeJob)
	if err != nil {
		return babysitter.User{}, babysitter.Page[babysitter.Job]{}, s.mapError(op, err)
	}
	return u, page, nil
}

// listWithUser runs the Query of a list headed by a user's own item (the
// first item of the first page, newest first) and returns the user, the
// items after it and whether more may follow. It reads the user with a
// GetItem beside the Query on later pages, and the Guard's actor when that
// is not the user.
func (s *Store) listWithUser(ctx context.Context, g babysitter.Guard, l list, username string, p babysitter.PageRequest) (babysitter.User, []map[string]types.AttributeValue, bool, int, error) {
	start, err := l.start(p.Cursor)
	if err != nil {
		return babysitter.User{}, nil, false, 0, err
	}
	n := limit(p)
	var extra []map[string]types.AttributeValue
	userAt, actorAt := -1, -1
	if start != nil {
		userAt = len(extra)
		extra = append(extra, userItemKey(username))
	}
	switch {
	case g.Username == "":
	case g.Username == username:
		actorAt = userAt // the header item, or the GetItem beside the Query
	default:
		actorAt = len(extra)
		extra = append(extra, userItemKey(g.Username))
	}
	size := n + 1
	if start == nil {
		size++ // the user's item
	}
	out, got, err := s.queryWith(ctx, l.query(s.table, start, size), extra...)
	if err != nil {
		return babysitter.User{}, nil, false, 0, err
	}
	items := out.Items
	var userItem map[string]types.AttributeValue
	if start == nil {
		if len(items) > 0 && str(items[0], l.skAttr) == userKey(username) {
			userItem, items = items[0], items[1:]
		} else {
			// Not in the index (yet: indexes are eventually consistent) or
			// no such user: ask the table.
			if userItem, err = s.getItem(ctx, userItemKey(username)); err != nil {
				return babysitter.User{}, nil, false, 0, err
			}
		}
	} else {
		userItem = got[userAt]
	}
	actor := userItem
	if actorAt >= 0 && actorAt != userAt {
		actor = got[actorAt]
	}
	if err := checkGuard(g, actor); err != nil {
		return babysitter.User{}, nil, false, 0, err
	}
	if userItem == nil {
		return babysitter.User{}, nil, false, 0, userNotFound(username)
	}
	u, err := decodeUser(userItem)
	if err != nil {
		return babysitter.User{}, nil, false, 0, err
	}
	return u, items, out.LastEvaluatedKey != nil, n, nil
}
