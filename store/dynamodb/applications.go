package dynamodb

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/babysitter-go/babysitter"
)

// ApplyToJob is one TransactWriteItems:
//
//	0 ConditionCheck the job: status = OPEN (ALL_OLD: missing → ErrNotFound)
//	1 Put the application (if its ID is new)
//	2 Put the applicant marker JOB#<job> / APPLICANT#<nanny> (if new:
//	  one application per nanny per job)
//	3 Update the nanny: pendingApplications + 1 (must exist; the Guard)
//	  [4 ConditionCheck the actor, when the Guard is on someone else]
//
// A booking closes the job with an Update of the same job item, so an
// application either commits before the booking (and is seen by the
// strongly consistent PendingApplications after it) or fails.
func (s *Store) ApplyToJob(ctx context.Context, g babysitter.Guard, a babysitter.Application) error {
	const op = "ApplyToJob"
	a.Status = babysitter.ApplicationPending
	item, err := applicationItem(a)
	if err != nil {
		return err
	}
	c, pa, pm := newExpr(), newExpr(), newExpr()
	marker := applicantItemKey(a.JobID, a.NannyUsername)
	marker[attrApplicationID] = strValue(a.ID)
	marker[attrUsername] = strValue(a.NannyUsername)
	var uo userOps
	uo.add(a.NannyUsername, attrPendingApps, 1)
	uo.guard(g)
	items := append([]types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{
			TableName:                           aws.String(s.table),
			Key:                                 jobItemKey(a.JobID),
			ConditionExpression:                 aws.String(c.eq(attrJobStatus, strValue(string(babysitter.JobOpen)))),
			ExpressionAttributeNames:            c.Names(),
			ExpressionAttributeValues:           c.Values(),
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
		{Put: &types.Put{
			TableName:                aws.String(s.table),
			Item:                     item,
			ConditionExpression:      aws.String(pa.notExists()),
			ExpressionAttributeNames: pa.Names(),
		}},
		{Put: &types.Put{
			TableName:                aws.String(s.table),
			Item:                     marker,
			ConditionExpression:      aws.String(pm.notExists()),
			ExpressionAttributeNames: pm.Names(),
		}},
	}, uo.items(s.table)...)
	nannyIdx, actorIdx := 3+uo.index(a.NannyUsername), 3+uo.index(g.Username)

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
			}
		case failedAt(reasons, nannyIdx):
			return userNotFound(a.NannyUsername)
		case failedAt(reasons, 0):
			job, rerr := s.reasonItem(ctx, reasons, 0, jobItemKey(a.JobID))
			if rerr != nil {
				return s.mapError(op, rerr)
			}
			if job == nil {
				return jobNotFound(a.JobID)
			}
			if st := babysitter.JobStatus(str(job, attrJobStatus)); st != babysitter.JobOpen {
				return babysitter.Errorf(babysitter.ErrConflict, "job %q is %s, not OPEN", a.JobID, st)
			}
			// OPEN again as read now: it was not a moment ago; try again.
		case failedAt(reasons, 2):
			return &babysitter.AlreadyExistsError{Field: babysitter.FieldApplication, Value: a.NannyUsername}
		case failedAt(reasons, 1):
			return babysitter.Errorf(babysitter.ErrConflict, "application %q already exists", a.ID)
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

// WithdrawApplication reads the application strongly consistent (with the
// actor: one BatchGetItem), then in one TransactWriteItems moves it
// PENDING → WITHDRAWN (conditioned on the status and the nanny) and takes 1
// from the nanny's pendingApplications (with the Guard). The read reports
// the errors precisely and is what the returned application is built from.
func (s *Store) WithdrawApplication(ctx context.Context, g babysitter.Guard, jobID, applicationID, nanny string, now time.Time) (babysitter.Application, error) {
	const op = "WithdrawApplication"
	for attempt := 1; ; attempt++ {
		items, actor, err := s.readWith(ctx, g, applicationItemKey(jobID, applicationID))
		if err != nil {
			return babysitter.Application{}, s.mapError(op, err)
		}
		if err := checkGuard(g, actor); err != nil {
			return babysitter.Application{}, err
		}
		if items[0] == nil {
			return babysitter.Application{}, appNotFound(jobID, applicationID)
		}
		a, err := decodeApplication(items[0])
		switch {
		case err != nil:
			return babysitter.Application{}, s.mapError(op, err)
		case a.NannyUsername != nanny:
			return babysitter.Application{}, babysitter.Errorf(babysitter.ErrForbidden, "application %q is not %q's", applicationID, nanny)
		case a.Status != babysitter.ApplicationPending:
			return babysitter.Application{}, appNotPending(a)
		}

		e := newExpr()
		up := (&update{e: e}).Set(attrAppStatus, strValue(string(babysitter.ApplicationWithdrawn))).Set(attrUpdatedOn, timeValue(now))
		cond := and(e.eq(attrAppStatus, strValue(string(babysitter.ApplicationPending))), e.eq(attrUsername, strValue(nanny)))
		var uo userOps
		uo.add(nanny, attrPendingApps, -1)
		uo.guard(g)
		tx := append([]types.TransactWriteItem{{Update: &types.Update{
			TableName:                 aws.String(s.table),
			Key:                       applicationItemKey(jobID, applicationID),
			UpdateExpression:          aws.String(up.String()),
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeNames:  e.Names(),
			ExpressionAttributeValues: e.Values(),
		}}}, uo.items(s.table)...)
		err = s.transact(ctx, tx)
		if err == nil {
			a.Status, a.UpdatedOn = babysitter.ApplicationWithdrawn, now
			return a, nil
		}
		if cancellation(err) == nil {
			return babysitter.Application{}, s.mapError(op, err)
		}
		if attempt >= maxAttempts {
			return babysitter.Application{}, gaveUp(op, attempt, err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return babysitter.Application{}, err
		}
	}
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
// pages lack the job's item: it is read with a GetItem beside the Query, as
// is the actor's item when guarded.
func (s *Store) ListApplicationsForJob(ctx context.Context, g babysitter.Guard, jobID string, p babysitter.PageRequest) (babysitter.Job, babysitter.Page[babysitter.Application], error) {
	const op = "ListApplicationsForJob"
	fail := func(err error) (babysitter.Job, babysitter.Page[babysitter.Application], error) {
		return babysitter.Job{}, babysitter.Page[babysitter.Application]{}, s.mapError(op, err)
	}
	l := jobApplications(jobID)
	start, err := l.start(p.Cursor)
	if err != nil {
		return fail(err)
	}
	n := limit(p)
	var extra []map[string]types.AttributeValue
	if g.Username != "" {
		extra = append(extra, userItemKey(g.Username))
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
	if g.Username != "" {
		if err := checkGuard(g, got[0]); err != nil {
			return fail(err)
		}
	}
	items := out.Items
	var jobItem map[string]types.AttributeValue
	switch {
	case start != nil:
		jobItem = got[len(got)-1]
	case len(items) > 0 && str(items[0], attrSK) == jobKey(jobID):
		jobItem, items = items[0], items[1:]
	}
	if jobItem == nil {
		return fail(jobNotFound(jobID))
	}
	j, err := decodeJob(jobItem)
	if err != nil {
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

// PendingApplications is a strongly consistent Query of the job's
// applications filtered to PENDING, every page, newest first. Once the job
// is not OPEN no application can be added, so a call after BookNanny sees
// every one left to decline.
func (s *Store) PendingApplications(ctx context.Context, jobID string) ([]babysitter.Application, error) {
	const op = "PendingApplications"
	e := newExpr()
	cond := e.eq(attrPK, strValue(jobKey(jobID))) + " AND begins_with(" + e.n(attrSK) + ", " + e.sv(prefixApplication) + ")"
	filter := e.eq(attrAppStatus, strValue(string(babysitter.ApplicationPending)))
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String(cond),
		FilterExpression:          aws.String(filter),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
		ScanIndexForward:          aws.Bool(false),
		ConsistentRead:            aws.Bool(true),
	}
	var apps []babysitter.Application
	for {
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, s.mapError(op, err)
		}
		for _, item := range out.Items {
			a, err := decodeApplication(item)
			if err != nil {
				return nil, s.mapError(op, err)
			}
			apps = append(apps, a)
		}
		if out.LastEvaluatedKey == nil {
			return apps, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey // internal paging: not a cursor
	}
}
