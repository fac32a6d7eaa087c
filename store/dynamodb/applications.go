package dynamodb

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/babysitter-go/babysitter"
)

// ApplyToJob is one TransactWriteItems:
//
//	"job"          ConditionCheck the job: it exists, status = OPEN and
//	               username <> the nanny (babysitter.CheckApply)
//	"application"  Put the application (if its ID is new)
//	"applicant"    Put the applicant marker JOB#<job> / APPLICANT#<nanny>
//	               (if new: one application per nanny per job)
//	user:<nanny>   ConditionCheck the nanny: exists (and the Guard's
//	               condition when the nanny is the actor; else the actor
//	               has an action of its own, unless an admin)
//
// A failed condition is decided by the Check function on the item it
// returned (ALL_OLD). A booking closes the job with an Update of the same
// job item, so an application either commits before the booking (and is
// seen by the strongly consistent read of DeclinePending after it) or
// fails.
func (s *Store) ApplyToJob(ctx context.Context, g babysitter.Guard, a babysitter.Application) error {
	const op = "ApplyToJob"
	if err := guardable(g); err != nil {
		return err
	}
	a.Status = babysitter.ApplicationPending
	item, err := encodeApplication(a)
	if err != nil {
		return err
	}
	marker, err := encodeApplicant(a)
	if err != nil {
		return err
	}
	t := newTxn(s.table)
	c, pa, pm := newExpr(), newExpr(), newExpr()
	t.check("job", jobItemKey(a.JobID), c, and(c.exists(),
		c.eq(attrJobStatus, strValue(string(babysitter.JobOpen))),
		c.ne(attrUsername, strValue(a.NannyUsername))))
	t.put("application", item, pa, pa.notExists())
	t.put("applicant", marker, pm, pm.notExists())
	var uo userOps
	uo.exists(a.NannyUsername)
	uo.guard(g)
	uo.addTo(t)
	nanny := userAction(a.NannyUsername)

	return retry(ctx, op, func() error {
		c, err := s.run(ctx, op, t, g)
		switch {
		case c == nil:
			return err
		case c.failed(nanny) && c.item(nanny) == nil:
			return babysitter.UserNotFound(a.NannyUsername)
		case c.failed("job"):
			job, err := decodeOrNil(c.item("job"), decodeJob)
			if err != nil {
				return s.mapError(op, err)
			}
			if err := babysitter.CheckApply(job, a); err != nil {
				return err
			}
			return again(c) // it passes as it is now: it did not a moment ago
		case c.failed("applicant"):
			return babysitter.ApplicationTaken(a)
		case c.failed("application"):
			return babysitter.DuplicateID("application", a.ID)
		}
		return s.undecided(op, c)
	})
}

// WithdrawApplication reads the application strongly consistent (with the
// actor: one BatchGetItem) and decides with babysitter.CheckWithdraw, then
// in one TransactWriteItems moves it PENDING → WITHDRAWN (conditioned on
// the status and the nanny) with the Guard's ConditionCheck of the actor.
// The read is what the returned application is built from; a canceled
// transaction reads and decides again (retry).
func (s *Store) WithdrawApplication(ctx context.Context, g babysitter.Guard, ref babysitter.ApplicationRef, now time.Time) (babysitter.Application, error) {
	const op = "WithdrawApplication"
	var out babysitter.Application
	err := retry(ctx, op, func() error {
		items, err := s.read(ctx, g, applicationItemKey(ref.JobID, ref.ApplicationID))
		if err != nil {
			return s.mapError(op, err)
		}
		a, err := decodeOrNil(items[0], decodeApplication)
		if err != nil {
			return s.mapError(op, err)
		}
		if err := babysitter.CheckWithdraw(g, ref, a); err != nil {
			return err
		}

		t := newTxn(s.table)
		e := newExpr()
		up := (&update{e: e}).Set(attrAppStatus, strValue(string(babysitter.ApplicationWithdrawn))).Set(attrUpdatedOn, timeValue(now))
		t.update("application", applicationItemKey(ref.JobID, ref.ApplicationID), up,
			and(e.eq(attrAppStatus, strValue(string(babysitter.ApplicationPending))), e.eq(attrUsername, strValue(a.NannyUsername))))
		var uo userOps
		uo.guard(g)
		uo.addTo(t)
		c, err := s.run(ctx, op, t, g)
		switch {
		case c != nil:
			return s.undecided(op, c) // read and decide again
		case err != nil:
			return err
		}
		out = *a
		out.Status, out.UpdatedOn = babysitter.ApplicationWithdrawn, now
		return nil
	})
	return out, err
}

// jobApplications is the list of a job's applications: the table's
// partition JOB#<id>, sort keys from "APPLICATION#" to "JOB#<id>", newest
// first — the job's own item, then the applications (UUIDv7 IDs sort by
// time). The applicant markers (APPLICANT#…) sort before "APPLICATION#"
// and stay out of the range.
func jobApplications(jobID string) list {
	return list{
		scope:  "job-apps:" + jobID,
		pkAttr: attrPK, skAttr: attrSK,
		pk: jobKey(jobID),
		lo: prefixApplication, hi: jobKey(jobID), prefix: prefixApplication,
		consistent: true,
	}
}

// ListApplicationsForJob is one strongly consistent Query of the job's
// partition (the job first, then its applications, newest first). Later
// pages lack the job's item: it is read with a GetItem beside the Query,
// as is the actor's item for a non-admin actor. The Guard, then
// babysitter.CheckJobManager on the job, decide whether the actor may see
// them.
func (s *Store) ListApplicationsForJob(ctx context.Context, g babysitter.Guard, jobID string, p babysitter.PageRequest) (babysitter.Job, babysitter.Page[babysitter.Application], error) {
	const op = "ListApplicationsForJob"
	fail := func(err error) (babysitter.Job, babysitter.Page[babysitter.Application], error) {
		return babysitter.Job{}, babysitter.Page[babysitter.Application]{}, s.mapError(op, err)
	}
	if err := guardable(g); err != nil {
		return fail(err)
	}
	l := jobApplications(jobID)
	start, err := l.start(p.Cursor)
	if err != nil {
		return fail(err)
	}
	n := p.Size()
	var extra []map[string]types.AttributeValue
	if k, ok := actorKey(g); ok {
		extra = append(extra, k)
	}
	size := n + 1
	if start == nil {
		size++ // the job's item
	} else {
		extra = append(extra, jobItemKey(jobID))
	}
	out, got, err := s.queryWith(ctx, l.query(s.table, start, size), extra...)
	if err != nil {
		return fail(err)
	}
	if !g.Admin() {
		if err := g.Check(accountOf(got[0])); err != nil {
			return fail(err)
		}
	}
	items := out.Items
	var head map[string]types.AttributeValue
	switch {
	case start != nil:
		head = got[len(got)-1]
	case len(items) > 0 && str(items[0], attrSK) == jobKey(jobID):
		head, items = items[0], items[1:]
	}
	if head == nil {
		return fail(babysitter.JobNotFound(jobID))
	}
	j, err := decodeJob(head)
	if err != nil {
		return fail(err)
	}
	if err := babysitter.CheckJobManager(g, j); err != nil {
		return fail(err)
	}
	page, err := pageOf(l, items, out.LastEvaluatedKey != nil, n, decodeApplication)
	if err != nil {
		return fail(err)
	}
	return j, page, nil
}

// ListJobsAppliedTo is one Query of the byUser index: GSI1PK = USER#<nanny>
// and GSI1SK between "APPLICATION#" and "USER#<nanny>", newest first: the
// nanny's item, then the applications. See ListJobsByParent.
func (s *Store) ListJobsAppliedTo(ctx context.Context, g babysitter.Guard, nanny string, p babysitter.PageRequest) (babysitter.User, babysitter.Page[babysitter.Application], error) {
	const op = "ListJobsAppliedTo"
	l := list{
		scope: "nanny-apps:" + nanny,
		index: IndexByUser, pkAttr: attrGSI1PK, skAttr: attrGSI1SK,
		pk: userKey(nanny),
		lo: prefixApplication, hi: userKey(nanny), prefix: prefixApplication,
		valid: func(k map[string]string) bool {
			pk := k[attrPK]
			return k[attrSK] == k[attrGSI1SK] && len(pk) > len(prefixJob) && pk[:len(prefixJob)] == prefixJob
		},
	}
	u, items, more, n, err := s.listWithUser(ctx, g, l, nanny, p)
	if err != nil {
		return babysitter.User{}, babysitter.Page[babysitter.Application]{}, s.mapError(op, err)
	}
	page, err := pageOf(l, items, more, n, decodeApplication)
	if err != nil {
		return babysitter.User{}, babysitter.Page[babysitter.Application]{}, s.mapError(op, err)
	}
	return u, page, nil
}
