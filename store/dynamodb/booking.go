package dynamodb

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/babysitter-go/babysitter"
)

// BookNanny is one strongly consistent BatchGetItem of the job, the
// application and the Guard's actor (the parent), a decision by
// babysitter.CheckBooking on them, then one TransactWriteItems (bookTxn):
//
//	"job"          Update OPEN → CLOSED, acceptedApplicationId,
//	               acceptedNanny, GSI2PK; REMOVE GSI3PK, GSI3SK (it leaves
//	               the byCell index) (condition: status = OPEN, username =
//	               the parent, version as read)
//	"application"  Update PENDING → ACCEPTED (condition: PENDING, the
//	               nanny as read)
//	user:<parent>  Update openJobs - 1 (condition: exists, and the Guard's)
//	user:<nanny>   ConditionCheck the applicant's account: exists, type =
//	               NANNY, status IN r.Applicant (CheckApplicant)
//	"due"          Put the job's outbox item: its declines are due (see
//	               DeclinePending, DueDeclines)
//
// The applicant's username is in the application, so the first read
// cannot include their item: the first decision assumes the account the
// ConditionCheck requires, and the ConditionCheck decides. When it fails,
// CheckBooking on the account it returned (ALL_OLD) gives the error; later
// reads include the applicant's item.
//
// The read recognizes a retry of a booking that succeeded (CheckBooking's
// done: success, nothing written) and is what the returned job and
// application are built from — a transaction returns no values. When the
// transaction is canceled otherwise — something changed since the read, or
// another transaction held one of the items (100 parents racing for one
// job) — BookNanny reads and decides again (retry): the read then shows
// the job CLOSED by the winner (ErrConflict), or by this very request's
// earlier attempt (success).
func (s *Store) BookNanny(ctx context.Context, r babysitter.BookRequest) (babysitter.Job, babysitter.Application, error) {
	const op = "BookNanny"
	var (
		job       babysitter.Job
		app       babysitter.Application
		applicant string // the applicant's username, once read
	)
	err := retry(ctx, op, func() error {
		keys := []map[string]types.AttributeValue{jobItemKey(r.JobID), applicationItemKey(r.JobID, r.ApplicationID)}
		if applicant != "" {
			keys = append(keys, userItemKey(applicant))
		}
		items, err := s.read(ctx, r.Guard, keys...)
		if err != nil {
			return s.mapError(op, err)
		}
		j, err := decodeOrNil(items[0], decodeJob)
		if err != nil {
			return s.mapError(op, err)
		}
		a, err := decodeOrNil(items[1], decodeApplication)
		if err != nil {
			return s.mapError(op, err)
		}
		var nanny *babysitter.User
		switch {
		case a == nil:
		case a.NannyUsername == applicant:
			nanny = accountOf(items[2])
		default:
			nanny = assumedApplicant(r, a.NannyUsername) // decided by the write
			applicant = a.NannyUsername
		}
		done, err := babysitter.CheckBooking(r, j, a, nanny)
		switch {
		case err != nil:
			return err
		case done:
			job, app = *j, *a
			return nil // a retry of a booking that succeeded
		}

		c, err := s.run(ctx, op, bookTxn(s.table, r, *j, *a), r.Guard)
		switch {
		case c == nil && err != nil:
			return err
		case c == nil:
			job, app = *j, *a
			job.Status, job.AcceptedApplicationID, job.AcceptedNanny, job.UpdatedOn = babysitter.JobClosed, a.ID, a.NannyUsername, r.At
			app.Status, app.UpdatedOn = babysitter.ApplicationAccepted, r.At
			return nil
		case c.failed(userAction(a.NannyUsername)):
			if _, err := babysitter.CheckBooking(r, j, a, accountOf(c.item(userAction(a.NannyUsername)))); err != nil {
				return err
			}
		}
		return s.undecided(op, c) // read and decide again
	})
	if err != nil {
		return babysitter.Job{}, babysitter.Application{}, err
	}
	return job, app, nil
}

// assumedApplicant is the applicant's account as BookNanny's transaction
// requires it: a NANNY account in one of r.Applicant's statuses (none when
// r.Applicant is empty: nobody can be booked then).
func assumedApplicant(r babysitter.BookRequest, username string) *babysitter.User {
	u := &babysitter.User{Username: username, Type: babysitter.UserNanny}
	if len(r.Applicant) > 0 {
		u.Status = r.Applicant[0]
	}
	return u
}

// bookTxn is BookNanny's transaction for job j and application a as read.
func bookTxn(table string, r babysitter.BookRequest, j babysitter.Job, a babysitter.Application) *txn {
	t := newTxn(table)
	ej := newExpr()
	upJob := (&update{e: ej}).
		Set(attrJobStatus, strValue(string(babysitter.JobClosed))).
		Set(attrAccepted, strValue(a.ID)).
		Set(attrAcceptedNanny, strValue(a.NannyUsername)).
		Set(attrGSI2PK, strValue(jobStatusKey(babysitter.JobClosed))).
		Set(attrUpdatedOn, timeValue(r.At))
	leaveCellIndex(upJob, babysitter.JobClosed)
	t.update("job", jobItemKey(j.ID), upJob, and(
		ej.eq(attrJobStatus, strValue(string(babysitter.JobOpen))),
		ej.eq(attrUsername, strValue(j.ParentUsername)),
		ej.eq(attrVersion, number(j.Version))))

	ea := newExpr()
	upApp := (&update{e: ea}).
		Set(attrAppStatus, strValue(string(babysitter.ApplicationAccepted))).
		Set(attrUpdatedOn, timeValue(r.At))
	t.update("application", applicationItemKey(j.ID, a.ID), upApp, and(
		ea.eq(attrAppStatus, strValue(string(babysitter.ApplicationPending))),
		ea.eq(attrUsername, strValue(a.NannyUsername))))

	var uo userOps
	uo.add(j.ParentUsername, attrOpenJobs, -1)
	uo.guard(r.Guard)
	uo.require(a.NannyUsername, babysitter.UserNanny, r.Applicant)
	uo.addTo(t)
	t.put("due", encodeDue(j.ID, r.At), nil, "")
	return t
}
