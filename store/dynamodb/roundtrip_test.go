package dynamodb_test

import (
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/store/dynamodb/ddbtest"
)

// TestRoundTrips counts the requests each Store method sends: DESIGN.md's
// round-trip contract makes them part of the API.
//
// It counts calls (the operations the Store asks the client for), not
// attempts: on a loaded machine the SDK may retry a request that timed out
// or was throttled, which says nothing about the Store. TestFaults is where
// retries are tested.
func TestRoundTrips(t *testing.T) {
	t.Parallel()
	s, calls, _, _ := countingStore(t)
	ctx := t.Context()

	// expect runs fn and checks the calls it made.
	expect := func(what string, want map[string]int, fn func() error) {
		t.Helper()
		calls.Reset()
		if err := fn(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := calls.Calls(); !maps.Equal(got, want) {
			t.Errorf("%s: calls %s, want %s", what, ddbtest.Format(got), ddbtest.Format(want))
		}
	}
	one := func(op string) map[string]int { return map[string]int{op: 1} }
	now := time.Now().UTC()

	parent := newUser(babysitter.UserParent)
	expect("CreateUser", one("TransactWriteItems"), func() error { return s.CreateUser(ctx, parent) })
	expect("CreateUser with a taken email", one("TransactWriteItems"), func() error {
		dup := newUser(babysitter.UserParent)
		dup.Email = parent.Email
		var ae *babysitter.AlreadyExistsError
		if err := s.CreateUser(ctx, dup); !errors.As(err, &ae) || ae.Field != babysitter.FieldEmail {
			return errors.New("want AlreadyExists on email, got " + errString(err))
		}
		return nil
	})
	expect("GetUser", one("GetItem"), func() error { _, err := s.GetUser(ctx, parent.Username); return err })
	expect("SetUserStatus", one("UpdateItem"), func() error {
		_, err := s.SetUserStatus(ctx, babysitter.StatusUpdate{Username: parent.Username, Status: babysitter.StatusVerified, At: now})
		return err
	})
	next := parent
	next.FirstName, next.Version, next.UpdatedOn = "Grace", 2, now
	expect("UpdateUser", one("UpdateItem"), func() error { return s.UpdateUser(ctx, active(parent), parent.Email, next) })
	stale := next
	stale.FirstName = "Stale"
	expect("UpdateUser with a stale version", one("UpdateItem"), func() error {
		return wantKind(s.UpdateUser(ctx, active(parent), parent.Email, stale), babysitter.ErrConflict)
	})
	moved := next
	moved.Email, moved.Version = "moved-"+parent.Email, 3
	expect("UpdateUser changing the email", one("TransactWriteItems"), func() error {
		return s.UpdateUser(ctx, active(parent), parent.Email, moved)
	})

	nannies := make([]babysitter.User, 11)
	for i := range nannies {
		nannies[i] = newUser(babysitter.UserNanny)
		must(t, "CreateUser", s.CreateUser(ctx, nannies[i]))
	}

	j := newJob(parent.Username)
	expect("CreateJob", one("TransactWriteItems"), func() error { return s.CreateJob(ctx, active(parent), j) })
	expect("GetJob by an admin", one("GetItem"), func() error { _, err := s.GetJob(ctx, admin, j.ID); return err })
	expect("GetJob by a parent", one("BatchGetItem"), func() error { _, err := s.GetJob(ctx, active(parent), j.ID); return err })
	nj := j
	nj.Description, nj.Version, nj.UpdatedOn = "Three kids.", 2, now
	expect("UpdateJob by the parent", one("TransactWriteItems"), func() error {
		return s.UpdateJob(ctx, active(parent), nj)
	})
	expect("UpdateJob by the parent, with a stale version", one("TransactWriteItems"), func() error {
		staleJob := nj
		staleJob.Description = "Stale."
		return wantKind(s.UpdateJob(ctx, active(parent), staleJob), babysitter.ErrConflict)
	})
	expect("UpdateJob by a nanny", one("TransactWriteItems"), func() error {
		other := nj
		other.Version = 3
		return wantKind(s.UpdateJob(ctx, active(nannies[0]), other), babysitter.ErrForbidden)
	})
	nj.Description, nj.Version = "Four kids.", 3
	expect("UpdateJob by an admin", one("UpdateItem"), func() error { return s.UpdateJob(ctx, admin, nj) })

	apps := make([]babysitter.Application, len(nannies))
	for i, n := range nannies {
		apps[i] = newApplication(j.ID, n.Username)
		expect("ApplyToJob", one("TransactWriteItems"), func() error { return s.ApplyToJob(ctx, verified(n), apps[i]) })
	}
	expect("ApplyToJob twice", one("TransactWriteItems"), func() error {
		return wantKind(s.ApplyToJob(ctx, verified(nannies[0]), newApplication(j.ID, nannies[0].Username)), babysitter.ErrAlreadyExists)
	})
	expect("ApplyToJob as a parent", one("TransactWriteItems"), func() error {
		// A parent identity acting as a nanny: its account is a PARENT one.
		g := verified(parent)
		g.Actor.Role = babysitter.RoleNanny
		return wantKind(s.ApplyToJob(ctx, g, newApplication(j.ID, parent.Username)), babysitter.ErrForbidden)
	})

	expect("ListJobsByParent, first page, by the parent", one("Query"), func() error {
		_, _, err := s.ListJobsByParent(ctx, active(parent), parent.Username, babysitter.PageRequest{Limit: 10})
		return err
	})
	expect("ListJobsAppliedTo, first page, by the nanny", one("Query"), func() error {
		_, _, err := s.ListJobsAppliedTo(ctx, active(nannies[0]), nannies[0].Username, babysitter.PageRequest{Limit: 10})
		return err
	})
	expect("ListApplicationsForJob, first page, by an admin", one("Query"), func() error {
		_, _, err := s.ListApplicationsForJob(ctx, admin, j.ID, babysitter.PageRequest{Limit: 5})
		return err
	})
	expect("ListApplicationsForJob, first page, by the parent", map[string]int{"Query": 1, "GetItem": 1}, func() error {
		_, _, err := s.ListApplicationsForJob(ctx, active(parent), j.ID, babysitter.PageRequest{Limit: 5})
		return err
	})
	expect("ListApplicationsForJob by a nanny", map[string]int{"Query": 1, "GetItem": 1}, func() error {
		_, _, err := s.ListApplicationsForJob(ctx, active(nannies[0]), j.ID, babysitter.PageRequest{Limit: 5})
		return wantKind(err, babysitter.ErrForbidden)
	})
	expect("ListJobsByStatus", one("Query"), func() error {
		_, err := s.ListJobsByStatus(ctx, admin, babysitter.JobOpen, babysitter.PageRequest{Limit: 5})
		return err
	})
	expect("ListUsers", one("Query"), func() error {
		_, err := s.ListUsers(ctx, admin, babysitter.UserNanny, babysitter.PageRequest{Limit: 5})
		return err
	})
	expect("WithdrawApplication", map[string]int{"BatchGetItem": 1, "TransactWriteItems": 1}, func() error {
		_, err := s.WithdrawApplication(ctx, active(nannies[10]), babysitter.ApplicationRef{JobID: j.ID, ApplicationID: apps[10].ID}, now)
		return err
	})
	deactivated := nannies[9]
	_, err := s.SetUserStatus(ctx, babysitter.StatusUpdate{Username: deactivated.Username, Status: babysitter.StatusDeactivated, At: now})
	must(t, "SetUserStatus", err)
	expect("BookNanny of a deactivated applicant", map[string]int{"BatchGetItem": 1, "TransactWriteItems": 1}, func() error {
		_, _, err := s.BookNanny(ctx, book(parent, j.ID, apps[9].ID, now))
		return wantKind(err, babysitter.ErrConflict)
	})
	expect("BookNanny", map[string]int{"BatchGetItem": 1, "TransactWriteItems": 1}, func() error {
		_, _, err := s.BookNanny(ctx, book(parent, j.ID, apps[0].ID, now))
		return err
	})
	expect("BookNanny again (idempotent)", one("BatchGetItem"), func() error {
		_, _, err := s.BookNanny(ctx, book(parent, j.ID, apps[0].ID, now))
		return err
	})
	// 10 other applications: 1 withdrawn, 9 PENDING, of which one nanny
	// is deactivated (inert, declined all the same).
	expect("DeclinePending of 9", map[string]int{"Query": 1, "TransactWriteItems": 1}, func() error {
		res, err := s.DeclinePending(ctx, j.ID, now)
		if err == nil && (len(res.Declined) != 9 || len(res.Skipped) != 0) {
			err = fmt.Errorf("declined %d, skipped %d; want 9 declined", len(res.Declined), len(res.Skipped))
		}
		return err
	})
	expect("DeclinePending again (a redelivery)", one("Query"), func() error {
		res, err := s.DeclinePending(ctx, j.ID, now)
		if err == nil && len(res.Declined)+len(res.Skipped) != 0 {
			err = fmt.Errorf("a second DeclinePending declined %d", len(res.Declined))
		}
		return err
	})
	expect("ClearDeclines", one("DeleteItem"), func() error { return s.ClearDeclines(ctx, j.ID) })
	expect("DueDeclines", map[string]int{"Query": 4}, func() error {
		_, err := s.DueDeclines(ctx, now.Add(time.Hour), 10)
		return err
	})

	// Uploads: a read and one conditional write; the decision on a
	// document is still one UpdateItem, its condition naming the document.
	holder := nannies[2]
	doc := babysitter.Upload{ID: "0123456789abcdef0123456789abcdef", Kind: babysitter.UploadDocument, ContentType: "application/pdf", Size: 10, RequestedOn: now}
	expect("UpdateUploads (request)", map[string]int{"GetItem": 1, "UpdateItem": 1}, func() error {
		_, err := s.UpdateUploads(ctx, active(holder), babysitter.UploadChange{Username: holder.Username, Request: &doc, At: now})
		return err
	})
	confirmed := doc
	confirmed.UploadedOn = now
	expect("UpdateUploads (confirm)", map[string]int{"GetItem": 1, "UpdateItem": 1}, func() error {
		_, err := s.UpdateUploads(ctx, active(holder), babysitter.UploadChange{Username: holder.Username, Confirm: &confirmed, At: now})
		return err
	})
	expect("UpdateUploads that changes nothing (confirmed again)", one("GetItem"), func() error {
		_, err := s.UpdateUploads(ctx, active(holder), babysitter.UploadChange{Username: holder.Username, Confirm: &confirmed, At: now})
		return err
	})
	expect("SetUserStatus VERIFIED on a document", one("UpdateItem"), func() error {
		_, err := s.SetUserStatus(ctx, babysitter.StatusUpdate{Username: holder.Username, Status: babysitter.StatusVerified,
			Verification: &babysitter.Verification{By: "root", At: now, UploadID: doc.ID}, At: now})
		return err
	})
	expect("SetUserStatus VERIFIED on an unknown document", one("UpdateItem"), func() error {
		_, err := s.SetUserStatus(ctx, babysitter.StatusUpdate{Username: holder.Username, Status: babysitter.StatusVerified,
			Verification: &babysitter.Verification{By: "root", At: now, UploadID: "f123456789abcdef0123456789abcdef"}, At: now})
		return wantKind(err, babysitter.ErrNotFound)
	})
	expect("DeleteUser of an account with objects", map[string]int{"GetItem": 1, "TransactWriteItems": 1}, func() error {
		e, err := s.DeleteUser(ctx, admin, holder.Username, now)
		if err == nil && len(e.Keys) != 1 {
			err = fmt.Errorf("erasure %+v, want the document's key", e)
		}
		return err
	})
	expect("DueErasures", map[string]int{"Query": 4}, func() error {
		_, err := s.DueErasures(ctx, now.Add(time.Hour), 10)
		return err
	})
	expect("ClearErasure", one("DeleteItem"), func() error { return s.ClearErasure(ctx, holder.Username) })
	expect("TransitionJob CLOSED → COMPLETED by an admin", one("UpdateItem"), func() error {
		_, err := s.TransitionJob(ctx, admin, babysitter.JobTransition{JobID: j.ID, From: babysitter.JobClosed, To: babysitter.JobCompleted, At: now})
		return err
	})
	review := func(d babysitter.ReviewDirection, reviewer, reviewee string) babysitter.Review {
		return babysitter.Review{ID: uuid.Must(uuid.NewV7()).String(), JobID: j.ID, Direction: d,
			Reviewer: reviewer, Reviewee: reviewee, Rating: 5, Answers: map[string]bool{"punctual": true}, CreatedOn: now}
	}
	expect("CreateReview", one("TransactWriteItems"), func() error {
		return s.CreateReview(ctx, active(parent), review(babysitter.ReviewOfNanny, parent.Username, nannies[0].Username))
	})
	expect("CreateReview a second time in one direction", one("TransactWriteItems"), func() error {
		return wantKind(s.CreateReview(ctx, active(parent), review(babysitter.ReviewOfNanny, parent.Username, nannies[0].Username)),
			babysitter.ErrAlreadyExists)
	})
	expect("CreateReview by someone else than the booked nanny", map[string]int{"TransactWriteItems": 1}, func() error {
		return wantKind(s.CreateReview(ctx, active(nannies[1]), review(babysitter.ReviewOfParent, nannies[1].Username, parent.Username)),
			babysitter.ErrForbidden)
	})
	expect("ListReviews", one("Query"), func() error {
		page, err := s.ListReviews(ctx, nannies[0].Username, babysitter.PageRequest{Limit: 5})
		if err == nil && len(page.Items) != 1 {
			err = errors.New("want 1 review")
		}
		return err
	})

	j2 := newJob(parent.Username)
	must(t, "CreateJob", s.CreateJob(ctx, active(parent), j2))
	// Four ranges: the precision-5 cell of j2 and three others, each a range
	// of its own precision-4 cell.
	var ranges []babysitter.GeoRange
	for _, p := range [][2]float64{{j2.Latitude, j2.Longitude}, {j2.Latitude + 1, j2.Longitude}, {j2.Latitude, j2.Longitude + 1}, {j2.Latitude - 1, j2.Longitude}} {
		h := babysitter.Geohash(p[0], p[1], 5)
		ranges = append(ranges, babysitter.GeoRange{Cell: h[:babysitter.GeoCellPrecision], From: h, To: h + "zzzz"})
	}
	expect("ListOpenJobsInRanges, 1 range", one("Query"), func() error {
		_, err := s.ListOpenJobsInRanges(ctx, admin, ranges[:1])
		return err
	})
	expect("ListOpenJobsInRanges, 4 ranges, guarded", map[string]int{"Query": 4, "GetItem": 1}, func() error {
		_, err := s.ListOpenJobsInRanges(ctx, active(nannies[0]), ranges)
		return err
	})
	expect("TransitionJob OPEN → CANCELLED", map[string]int{"BatchGetItem": 1, "TransactWriteItems": 1}, func() error {
		_, err := s.TransitionJob(ctx, active(parent), babysitter.JobTransition{JobID: j2.ID, From: babysitter.JobOpen, To: babysitter.JobCancelled, At: now})
		return err
	})
	expect("DeleteUser by the user", map[string]int{"GetItem": 1, "TransactWriteItems": 1}, func() error {
		return noErasure(s.DeleteUser(ctx, active(parent), parent.Username, time.Now()))
	})
	expect("DeleteUser by an admin", map[string]int{"GetItem": 1, "TransactWriteItems": 1}, func() error {
		return noErasure(s.DeleteUser(ctx, admin, nannies[1].Username, time.Now()))
	})
	expect("CreateUser of a deleted username", one("TransactWriteItems"), func() error {
		reborn := newUser(babysitter.UserParent)
		reborn.Username = parent.Username
		var ae *babysitter.AlreadyExistsError
		if err := s.CreateUser(ctx, reborn); !errors.As(err, &ae) || ae.Field != babysitter.FieldUsername {
			return errors.New("want AlreadyExists on username, got " + errString(err))
		}
		return nil
	})
}

func wantKind(err, kind error) error {
	if !errors.Is(err, kind) {
		return errors.New("want " + kind.Error() + ", got " + errString(err))
	}
	return nil
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}
