package dynamodb

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/babysitter-go/babysitter"
)

// BookNanny is one strongly consistent BatchGetItem of the job and the
// application (and the Guard's actor), then one TransactWriteItems:
//
//	0 Update the job: OPEN → CLOSED, acceptedApplicationId, acceptedNanny,
//	  GSI2PK; REMOVE GSI3PK, GSI3SK (it leaves the byCell index)
//	  (condition: status = OPEN, username = owner, version as read)
//	1 Update the parent: openJobs - 1 (the Guard's condition when the
//	  parent is the actor)
//	2 Update the application: PENDING → ACCEPTED (condition: PENDING)
//	3 Update the nanny: pendingApplications - 1
//	  [4 ConditionCheck the actor, when the Guard is on someone else]
//
// The read finds the nanny (whose counter changes), reports the errors
// precisely, recognizes a retry of a booking that succeeded (the job
// CLOSED with this application accepted: success, nothing written) and is
// what the returned job and application are built from — a transaction
// returns no values.
//
// When the transaction is canceled — a condition failed because something
// changed since the read, or another transaction held one of the items (100
// parents racing for one job) — BookNanny reads again and decides again,
// after a jittered backoff, at most maxAttempts times: the read then shows
// the job CLOSED by the winner (ErrConflict), or by this very request's
// earlier attempt (success).
func (s *Store) BookNanny(ctx context.Context, g babysitter.Guard, jobID, applicationID, owner string, now time.Time) (babysitter.Job, babysitter.Application, error) {
	const op = "BookNanny"
	fail := func(err error) (babysitter.Job, babysitter.Application, error) {
		return babysitter.Job{}, babysitter.Application{}, s.mapError(op, err)
	}
	for attempt := 1; ; attempt++ {
		items, actor, err := s.readWith(ctx, g, jobItemKey(jobID), applicationItemKey(jobID, applicationID))
		if err != nil {
			return fail(err)
		}
		if err := checkGuard(g, actor); err != nil {
			return fail(err)
		}
		if items[0] == nil {
			return fail(jobNotFound(jobID))
		}
		if items[1] == nil {
			return fail(appNotFound(jobID, applicationID))
		}
		j, err := decodeJob(items[0])
		if err != nil {
			return fail(err)
		}
		a, err := decodeApplication(items[1])
		if err != nil {
			return fail(err)
		}
		switch {
		case j.ParentUsername != owner:
			return fail(notOwner(owner, jobID))
		case j.Status == babysitter.JobClosed && j.AcceptedApplicationID == applicationID && a.Status == babysitter.ApplicationAccepted:
			return j, a, nil // a retry of a booking that succeeded
		case j.Status != babysitter.JobOpen:
			return fail(jobNotIn(j, babysitter.JobOpen))
		case a.Status != babysitter.ApplicationPending:
			return fail(appNotPending(a))
		}

		err = s.transact(ctx, bookItems(s.table, g, j, a, now))
		if err == nil {
			j.Status, j.AcceptedApplicationID, j.AcceptedNanny, j.UpdatedOn = babysitter.JobClosed, applicationID, a.NannyUsername, now
			a.Status, a.UpdatedOn = babysitter.ApplicationAccepted, now
			return j, a, nil
		}
		if cancellation(err) == nil {
			return fail(err)
		}
		if attempt >= maxAttempts {
			return fail(gaveUp(op, attempt, err))
		}
		if err := backoff(ctx, attempt); err != nil {
			return fail(err)
		}
	}
}

// bookItems is BookNanny's transaction for job j and application a as read.
func bookItems(table string, g babysitter.Guard, j babysitter.Job, a babysitter.Application, now time.Time) []types.TransactWriteItem {
	ej := newExpr()
	upJob := (&update{e: ej}).
		Set(attrJobStatus, strValue(string(babysitter.JobClosed))).
		Set(attrAccepted, strValue(a.ID)).
		Set(attrAcceptedNanny, strValue(a.NannyUsername)).
		Set(attrGSI2PK, strValue(jobStatusKey(babysitter.JobClosed))).
		Set(attrUpdatedOn, timeValue(now))
	leaveCellIndex(upJob, babysitter.JobClosed)
	condJob := and(ej.eq(attrJobStatus, strValue(string(babysitter.JobOpen))),
		ej.eq(attrUsername, strValue(j.ParentUsername)),
		ej.eq(attrVersion, number(j.Version)))

	ea := newExpr()
	upApp := (&update{e: ea}).
		Set(attrAppStatus, strValue(string(babysitter.ApplicationAccepted))).
		Set(attrUpdatedOn, timeValue(now))
	condApp := and(ea.eq(attrAppStatus, strValue(string(babysitter.ApplicationPending))),
		ea.eq(attrUsername, strValue(a.NannyUsername)))

	var uo userOps
	uo.add(j.ParentUsername, attrOpenJobs, -1)
	uo.add(a.NannyUsername, attrPendingApps, -1)
	uo.guard(g)
	return append([]types.TransactWriteItem{
		{Update: &types.Update{
			TableName:                 aws.String(table),
			Key:                       jobItemKey(j.ID),
			UpdateExpression:          aws.String(upJob.String()),
			ConditionExpression:       aws.String(condJob),
			ExpressionAttributeNames:  ej.Names(),
			ExpressionAttributeValues: ej.Values(),
		}},
		{Update: &types.Update{
			TableName:                 aws.String(table),
			Key:                       applicationItemKey(j.ID, a.ID),
			UpdateExpression:          aws.String(upApp.String()),
			ConditionExpression:       aws.String(condApp),
			ExpressionAttributeNames:  ea.Names(),
			ExpressionAttributeValues: ea.Values(),
		}},
	}, uo.items(table)...)
}

// declineBatch is how many applications one decline transaction holds: two
// actions each (the application, the nanny's counter) within DynamoDB's 100.
const declineBatch = 50

// DeclineApplications is one strongly consistent BatchGetItem of the job
// and the listed applications (per 100 keys), then one TransactWriteItems
// per 50 PENDING applications: for each, Update the application PENDING →
// DECLINED (condition: still PENDING) and the nanny's pendingApplications
// - 1. Missing and non-PENDING applications are skipped without a write.
//
// A canceled transaction's reasons say which applications are no longer
// PENDING: they are skipped and the rest is tried again (bounded), so one
// application that changed does not block the others.
//
// There is no ConditionCheck on the job: a job leaves OPEN for good
// (CLOSED → COMPLETED, CANCELLED), so the read that found it not OPEN
// stays true.
func (s *Store) DeclineApplications(ctx context.Context, jobID string, applicationIDs []string, now time.Time) (babysitter.DeclineResult, error) {
	const op = "DeclineApplications"
	keys := []map[string]types.AttributeValue{jobItemKey(jobID)}
	seen := map[string]bool{}
	for _, id := range applicationIDs {
		if !seen[id] {
			seen[id] = true
			keys = append(keys, applicationItemKey(jobID, id)) // distinct, in order
		}
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return babysitter.DeclineResult{}, s.mapError(op, err)
	}
	if items[0] == nil {
		return babysitter.DeclineResult{}, jobNotFound(jobID)
	}
	if st := babysitter.JobStatus(str(items[0], attrJobStatus)); st == babysitter.JobOpen {
		return babysitter.DeclineResult{}, babysitter.Errorf(babysitter.ErrConflict, "job %q is OPEN; its applications cannot be declined", jobID)
	}
	declined := map[string]bool{}
	var pending []babysitter.Application
	for _, item := range items[1:] {
		if item == nil {
			continue
		}
		a, err := decodeApplication(item)
		if err != nil {
			return babysitter.DeclineResult{}, s.mapError(op, err)
		}
		if a.Status == babysitter.ApplicationPending {
			pending = append(pending, a)
		}
	}

	var firstErr error
	for start := 0; start < len(pending); start += declineBatch {
		done, err := s.declineBatch(ctx, pending[start:min(start+declineBatch, len(pending))], now)
		for _, id := range done {
			declined[id] = true
		}
		if err != nil {
			firstErr = s.mapError(op, err)
			break
		}
	}

	// Declined and Skipped keep the order of applicationIDs; a repeated ID
	// is skipped the second time, as it is no longer PENDING then.
	var res babysitter.DeclineResult
	counted := map[string]bool{}
	for _, id := range applicationIDs {
		if declined[id] && !counted[id] {
			counted[id] = true
			res.Declined = append(res.Declined, id)
		} else {
			res.Skipped = append(res.Skipped, id)
		}
	}
	return res, firstErr
}

// declineBatch declines apps (all PENDING when read) in one transaction,
// dropping those whose condition fails and trying the rest again. It
// returns the IDs declined.
func (s *Store) declineBatch(ctx context.Context, apps []babysitter.Application, now time.Time) ([]string, error) {
	// noCounter marks nannies whose item is gone (an inconsistency):
	// their applications are declined without the counter change.
	noCounter := map[string]bool{}
	for attempt := 1; len(apps) > 0; attempt++ {
		var (
			tx      []types.TransactWriteItem
			uo      userOps
			appIdx  = make([]int, len(apps))
			nannies []string
		)
		for i, a := range apps {
			e := newExpr()
			up := (&update{e: e}).
				Set(attrAppStatus, strValue(string(babysitter.ApplicationDeclined))).
				Set(attrUpdatedOn, timeValue(now))
			appIdx[i] = len(tx)
			tx = append(tx, types.TransactWriteItem{Update: &types.Update{
				TableName:                 aws.String(s.table),
				Key:                       applicationItemKey(a.JobID, a.ID),
				UpdateExpression:          aws.String(up.String()),
				ConditionExpression:       aws.String(e.eq(attrAppStatus, strValue(string(babysitter.ApplicationPending)))),
				ExpressionAttributeNames:  e.Names(),
				ExpressionAttributeValues: e.Values(),
			}})
			if !noCounter[a.NannyUsername] {
				uo.add(a.NannyUsername, attrPendingApps, -1)
			}
		}
		base := len(tx)
		tx = append(tx, uo.items(s.table)...)
		nannies = uo.order

		err := s.transact(ctx, tx)
		if err == nil {
			ids := make([]string, len(apps))
			for i, a := range apps {
				ids[i] = a.ID
			}
			return ids, nil
		}
		reasons := cancellation(err)
		if reasons == nil {
			return nil, err
		}
		var keep []babysitter.Application
		for i, a := range apps {
			if !failedAt(reasons, appIdx[i]) {
				keep = append(keep, a) // still PENDING, or not known to have changed
			}
		}
		changed := len(keep) < len(apps)
		for i, n := range nannies {
			if failedAt(reasons, base+i) && !noCounter[n] {
				noCounter[n], changed = true, true
			}
		}
		if !changed && !retryable(err) {
			return nil, err // canceled for a reason that is none of the above
		}
		apps = keep
		if attempt >= maxAttempts {
			return nil, gaveUp("DeclineApplications", attempt, err)
		}
		if err := backoff(ctx, attempt); err != nil {
			return nil, err
		}
	}
	return nil, nil
}
