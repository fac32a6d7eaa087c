package dynamodb

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/babysitter-go/babysitter"
)

// CreateJob is one TransactWriteItems: Put the job (if its ID is new) and
// Update the parent (must exist; with the Guard's condition when the
// parent is the actor) adding 1 to openJobs, plus the Guard's
// ConditionCheck of the actor when that is someone else (not an admin).
func (s *Store) CreateJob(ctx context.Context, g babysitter.Guard, j babysitter.Job) error {
	const op = "CreateJob"
	if err := guardable(g); err != nil {
		return err
	}
	j.Status = babysitter.JobOpen
	item, err := encodeJob(j)
	if err != nil {
		return err
	}
	t := newTxn(s.table)
	e := newExpr()
	t.put("job", item, e, e.notExists())
	var uo userOps
	uo.add(j.ParentUsername, attrOpenJobs, 1)
	uo.guard(g)
	uo.addTo(t)
	parent := userAction(j.ParentUsername)
	return retry(ctx, op, func() error {
		c, err := s.run(ctx, op, t, g)
		switch {
		case c == nil:
			return err
		case c.failed(parent) && c.item(parent) == nil:
			return babysitter.UserNotFound(j.ParentUsername)
		case c.failed("job"):
			return babysitter.DuplicateID("job", j.ID)
		}
		return s.undecided(op, c)
	})
}

// GetJob is one strongly consistent GetItem, or for a non-admin actor one
// BatchGetItem (ConsistentRead) of the job and the actor's user item.
func (s *Store) GetJob(ctx context.Context, g babysitter.Guard, id string) (babysitter.Job, error) {
	const op = "GetJob"
	items, err := s.read(ctx, g, jobItemKey(id))
	if err != nil {
		return babysitter.Job{}, s.mapError(op, err)
	}
	if items[0] == nil {
		return babysitter.Job{}, babysitter.JobNotFound(id)
	}
	j, err := decodeJob(items[0])
	return j, s.mapError(op, err)
}

// UpdateJob is one UpdateItem setting the job details, updatedOn and
// version under the conditions of babysitter.CheckJobUpdate: the job
// exists, is OPEN, at next's previous version, and — for a non-admin
// actor — username = the actor (CheckJobManager). For a non-admin actor it
// is one TransactWriteItems of that Update and the Guard's ConditionCheck
// of the actor. A failed condition returns the stored job (ALL_OLD), and
// CheckJobUpdate on it gives the error without another read.
func (s *Store) UpdateJob(ctx context.Context, g babysitter.Guard, next babysitter.Job) error {
	const op = "UpdateJob"
	if err := guardable(g); err != nil {
		return err
	}
	details, err := marshal(jobDetailsItemOf(next.JobDetails))
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
	if !g.Admin() {
		cond = and(cond, e.eq(attrUsername, strValue(g.Actor.Username)))
	}
	// decide is the outcome of a failed condition on the job, as the
	// failure returned it (nil: no job).
	decide := func(old map[string]types.AttributeValue, cause error) error {
		cur, err := decodeOrNil(old, decodeJob)
		if err != nil {
			return s.mapError(op, err)
		}
		if cur != nil && babysitter.CheckJobManager(g, *cur) == nil &&
			cur.Version == next.Version && cur.UpdatedOn.Equal(next.UpdatedOn) && cur.JobDetails == next.JobDetails {
			return nil // this very update, applied by an earlier attempt (the SDK retried it)
		}
		if err := babysitter.CheckJobUpdate(g, cur, next); err != nil {
			return err
		}
		return again(cause)
	}
	if g.Admin() {
		return retry(ctx, op, func() error {
			_, err := s.updateItem(ctx, op, jobItemKey(next.ID), up, cond, decide)
			return err
		})
	}

	t := newTxn(s.table)
	t.update("job", jobItemKey(next.ID), up, cond)
	var uo userOps
	uo.guard(g)
	uo.addTo(t)
	return retry(ctx, op, func() error {
		c, err := s.run(ctx, op, t, g)
		switch {
		case c == nil:
			return err
		case c.failed("job"):
			return decide(c.item("job"), c)
		}
		return s.undecided(op, c)
	})
}

// TransitionJob moves a job between statuses as
// babysitter.CheckJobTransition allows, updating GSI2PK with the status.
// When it leaves OPEN (→ CANCELLED) the parent's openJobs goes down in the
// same transaction, and the job leaves the byCell index (REMOVE GSI3PK,
// GSI3SK; a job not OPEN never has them, so the REMOVE is a no-op for the
// other transitions).
//
// For an admin's transition that changes no counter (CLOSED → COMPLETED)
// it is one UpdateItem (ReturnValues ALL_NEW; condition: status = From),
// decided on failure by CheckJobTransition on the job it returns.
// Otherwise it is one strongly consistent read of the job (and the actor:
// BatchGetItem), CheckJobTransition on it, and one TransactWriteItems whose
// job Update is conditioned on the status, the version and the parent
// read — a transaction returns no values, and the read is what the updated
// job is built from. A canceled transaction reads and decides again
// (retry).
func (s *Store) TransitionJob(ctx context.Context, g babysitter.Guard, t babysitter.JobTransition) (babysitter.Job, error) {
	const op = "TransitionJob"
	if err := guardable(g); err != nil {
		return babysitter.Job{}, err
	}
	// Whether t is a transition at all does not depend on the stored job.
	if err := babysitter.CheckTransition(t.From, t.To); err != nil {
		return babysitter.Job{}, err
	}
	leavesOpen := t.From == babysitter.JobOpen && t.To != babysitter.JobOpen

	transition := func(e *expr) *update {
		up := (&update{e: e}).Set(attrJobStatus, strValue(string(t.To))).
			Set(attrGSI2PK, strValue(jobStatusKey(t.To))).
			Set(attrUpdatedOn, timeValue(t.At))
		leaveCellIndex(up, t.To)
		return up
	}

	var out babysitter.Job
	if g.Admin() && !leavesOpen {
		e := newExpr()
		up := transition(e)
		cond := and(e.exists(), e.eq(attrJobStatus, strValue(string(t.From))))
		decide := func(old map[string]types.AttributeValue, cause error) error {
			cur, err := decodeOrNil(old, decodeJob)
			switch {
			case err != nil:
				return s.mapError(op, err)
			case cur != nil && cur.Status == t.To && cur.UpdatedOn.Equal(t.At):
				out = *cur
				return nil // this very transition, applied by an earlier attempt
			}
			if err := babysitter.CheckJobTransition(g, cur, t); err != nil {
				return err
			}
			return again(cause)
		}
		err := retry(ctx, op, func() error {
			item, err := s.updateItem(ctx, op, jobItemKey(t.JobID), up, cond, decide)
			if err != nil || item == nil {
				return err // item is nil when decide found this transition made
			}
			out, err = decodeJob(item)
			return s.mapError(op, err)
		})
		return out, err
	}

	err := retry(ctx, op, func() error {
		items, err := s.read(ctx, g, jobItemKey(t.JobID))
		if err != nil {
			return s.mapError(op, err)
		}
		cur, err := decodeOrNil(items[0], decodeJob)
		if err != nil {
			return s.mapError(op, err)
		}
		if err := babysitter.CheckJobTransition(g, cur, t); err != nil {
			return err
		}

		tx := newTxn(s.table)
		e := newExpr()
		up := transition(e)
		tx.update("job", jobItemKey(t.JobID), up, and(e.exists(),
			e.eq(attrJobStatus, strValue(string(t.From))),
			e.eq(attrVersion, number(cur.Version)),
			e.eq(attrUsername, strValue(cur.ParentUsername))))
		var uo userOps
		if leavesOpen {
			tx.put("due", encodeDue(cur.ID, t.At), nil, "")
			uo.add(cur.ParentUsername, attrOpenJobs, -1)
		}
		uo.guard(g)
		uo.addTo(tx)
		c, err := s.run(ctx, op, tx, g)
		switch {
		case c != nil:
			return s.undecided(op, c) // read and decide again
		case err != nil:
			return err
		}
		out = *cur
		out.Status, out.UpdatedOn = t.To, t.At
		return nil
	})
	return out, err
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
// is not the user (nor an admin), and applies the Guard.
func (s *Store) listWithUser(ctx context.Context, g babysitter.Guard, l list, username string, p babysitter.PageRequest) (babysitter.User, []map[string]types.AttributeValue, bool, int, error) {
	if err := guardable(g); err != nil {
		return babysitter.User{}, nil, false, 0, err
	}
	start, err := l.start(p.Cursor)
	if err != nil {
		return babysitter.User{}, nil, false, 0, err
	}
	n := p.Size()
	var extra []map[string]types.AttributeValue
	userAt, actorAt := -1, -1
	if start != nil {
		userAt = len(extra)
		extra = append(extra, userItemKey(username))
	}
	switch {
	case g.Admin():
	case g.Actor.Username == username:
		actorAt = userAt // the header item, or the GetItem beside the Query
	default:
		actorAt = len(extra)
		extra = append(extra, userItemKey(g.Actor.Username))
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
	var head map[string]types.AttributeValue
	if start == nil {
		if len(items) > 0 && str(items[0], l.skAttr) == userKey(username) {
			head, items = items[0], items[1:]
		} else {
			// Not in the index (yet: indexes are eventually consistent) or
			// no such user: ask the table.
			if head, err = s.getItem(ctx, userItemKey(username)); err != nil {
				return babysitter.User{}, nil, false, 0, err
			}
		}
	} else {
		head = got[userAt]
	}
	if !g.Admin() {
		actor := head
		if actorAt != userAt {
			actor = got[actorAt]
		}
		if err := g.Check(accountOf(actor)); err != nil {
			return babysitter.User{}, nil, false, 0, err
		}
	}
	if head == nil {
		return babysitter.User{}, nil, false, 0, babysitter.UserNotFound(username)
	}
	u, err := decodeUser(head)
	if err != nil {
		return babysitter.User{}, nil, false, 0, err
	}
	return u, items, out.LastEvaluatedKey != nil, n, nil
}
