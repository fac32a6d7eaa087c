package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/babysitter-go/babysitter"
)

var bookingCases = []testCase{
	{"book", testBook},
	{"retry is idempotent", testBookRetry},
	{"second booking", testBookSecond},
	{"book refused", testBookRefused},
	{"pending applications", testPendingApplications},
	{"decline", testDecline},
	{"decline refused", testDeclineRefused},
	{"decline after cancel", testDeclineCancelled},
}

func testBook(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, n1, n2 := f.parent(), f.nanny(), f.nanny()
	j := f.job(p.Username)
	a1, a2 := f.apply(j.ID, n1.Username), f.apply(j.ID, n2.Username)

	at := now().Add(time.Minute)
	gotJ, gotA, err := s.BookNanny(f.ctx, guard(p.Username), j.ID, a1.ID, p.Username, at)
	if err != nil {
		t.Fatalf("BookNanny: %v", err)
	}
	wantJ := j
	wantJ.Status = babysitter.JobClosed
	wantJ.AcceptedApplicationID = a1.ID
	wantJ.AcceptedNanny = n1.Username
	wantJ.UpdatedOn = at
	wantA := withStatus(a1, babysitter.ApplicationAccepted, at)
	check(t, "BookNanny job", wantJ, gotJ, ignoreVersion)
	check(t, "BookNanny application", wantA, gotA)
	check(t, "GetJob after BookNanny", gotJ, f.getJob(j.ID))
	f.wantApps(j.ID, wantA, a2)
	check(t, "PendingApplications after BookNanny", []string{a2.ID}, f.pendingIDs(j.ID))
}

func testBookRetry(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, n1, n2 := f.parent(), f.nanny(), f.nanny()
	j := f.job(p.Username)
	a1, a2 := f.apply(j.ID, n1.Username), f.apply(j.ID, n2.Username)
	bookedJ, bookedA := f.book(j, a1)

	for range 2 {
		gotJ, gotA, err := s.BookNanny(f.ctx, guard(p.Username), j.ID, a1.ID, p.Username, now().Add(time.Hour))
		if err != nil {
			t.Fatalf("BookNanny retry: %v", err)
		}
		check(t, "BookNanny retry job", bookedJ, gotJ)
		check(t, "BookNanny retry application", bookedA, gotA)
	}
	check(t, "GetJob after retries", bookedJ, f.getJob(j.ID))
	f.wantApps(j.ID, bookedA, a2)
}

func testBookSecond(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, n1, n2 := f.parent(), f.nanny(), f.nanny()
	j := f.job(p.Username)
	a1, a2 := f.apply(j.ID, n1.Username), f.apply(j.ID, n2.Username)
	bookedJ, bookedA := f.book(j, a1)

	_, _, err := s.BookNanny(f.ctx, guard(p.Username), j.ID, a2.ID, p.Username, now())
	wantErr(t, "BookNanny of a second application", err, babysitter.ErrConflict)
	check(t, "job after the second booking", bookedJ, f.getJob(j.ID))
	f.wantApps(j.ID, bookedA, a2)
}

func testBookRefused(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, q, n, m := f.parent(), f.parent(), f.nanny(), f.nanny()
	j, k := f.job(p.Username), f.job(p.Username)
	a := f.apply(j.ID, n.Username)
	w := f.apply(j.ID, m.Username)
	w, err := s.WithdrawApplication(f.ctx, babysitter.Guard{}, j.ID, w.ID, m.Username, now())
	if err != nil {
		t.Fatalf("WithdrawApplication: %v", err)
	}
	ak := f.apply(k.ID, n.Username)
	cancelled := f.job(p.Username)
	ac := f.apply(cancelled.ID, n.Username)
	cancelled = f.cancel(cancelled)

	for _, tc := range []struct {
		name            string
		job, app, owner string
		want            error
	}{
		{"by another parent", j.ID, a.ID, q.Username, babysitter.ErrForbidden},
		{"of another job's application", j.ID, ak.ID, p.Username, babysitter.ErrNotFound},
		{"of a missing application", j.ID, newID(), p.Username, babysitter.ErrNotFound},
		{"of a missing job", newID(), a.ID, p.Username, babysitter.ErrNotFound},
		{"of a WITHDRAWN application", j.ID, w.ID, p.Username, babysitter.ErrConflict},
		{"of a CANCELLED job", cancelled.ID, ac.ID, p.Username, babysitter.ErrConflict},
	} {
		_, _, err := s.BookNanny(f.ctx, babysitter.Guard{}, tc.job, tc.app, tc.owner, now())
		wantErr(t, "BookNanny "+tc.name, err, tc.want)
	}
	check(t, "job after refused bookings", j, f.getJob(j.ID))
	check(t, "other job after refused bookings", k, f.getJob(k.ID))
	check(t, "cancelled job after a refused booking", cancelled, f.getJob(cancelled.ID))
	f.wantApps(j.ID, a, w)
	f.wantApps(k.ID, ak)
	f.wantApps(cancelled.ID, ac)

	// The job can still be booked.
	f.book(j, a)
}

func testPendingApplications(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p := f.parent()
	j, other, empty := f.job(p.Username), f.job(p.Username), f.job(p.Username)
	ns := f.nannies(4)
	as := f.applyAll(j.ID, ns)
	f.apply(other.ID, ns[0].Username)
	check(t, "PendingApplications", sortedIDs(as), f.pendingIDs(j.ID))

	if _, err := s.WithdrawApplication(f.ctx, babysitter.Guard{}, j.ID, as[0].ID, as[0].NannyUsername, now()); err != nil {
		t.Fatalf("WithdrawApplication: %v", err)
	}
	check(t, "PendingApplications after a withdrawal", sortedIDs(as[1:]), f.pendingIDs(j.ID))
	f.book(j, as[1])
	check(t, "PendingApplications after the booking", sortedIDs(as[2:]), f.pendingIDs(j.ID))

	// They come back whole.
	got, err := s.PendingApplications(f.ctx, j.ID)
	if err != nil {
		t.Fatalf("PendingApplications: %v", err)
	}
	byID := func(a, b babysitter.Application) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	}
	slices.SortFunc(got, byID)
	want := slices.Clone(as[2:])
	slices.SortFunc(want, byID)
	check(t, "PendingApplications items", want, got)
	check(t, "PendingApplications of a job without applications", []string{}, f.pendingIDs(empty.ID))
}

func testDecline(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p := f.parent()
	j, other := f.job(p.Username), f.job(p.Username)
	ns := f.nannies(5)
	as := f.applyAll(j.ID, ns)
	foreign := f.apply(other.ID, ns[0].Username)
	withdrawn, err := s.WithdrawApplication(f.ctx, babysitter.Guard{}, j.ID, as[1].ID, as[1].NannyUsername, now())
	if err != nil {
		t.Fatalf("WithdrawApplication: %v", err)
	}
	_, accepted := f.book(j, as[0])

	at := now().Add(time.Minute)
	ids := []string{as[2].ID, accepted.ID, withdrawn.ID, as[3].ID, newID(), foreign.ID, as[4].ID}
	res, err := s.DeclineApplications(f.ctx, j.ID, ids, at)
	if err != nil {
		t.Fatalf("DeclineApplications: %v", err)
	}
	check(t, "declined", sorted(as[2].ID, as[3].ID, as[4].ID), sorted(res.Declined...))
	check(t, "skipped", sorted(accepted.ID, withdrawn.ID, ids[4], foreign.ID), sorted(res.Skipped...))

	declined := []babysitter.Application{
		withStatus(as[2], babysitter.ApplicationDeclined, at),
		withStatus(as[3], babysitter.ApplicationDeclined, at),
		withStatus(as[4], babysitter.ApplicationDeclined, at),
	}
	f.wantApps(j.ID, append([]babysitter.Application{accepted, withdrawn}, declined...)...)
	f.wantApps(other.ID, foreign)
	check(t, "PendingApplications after declining", []string{}, f.pendingIDs(j.ID))

	// Again: harmless, nothing changes (not even UpdatedOn).
	res, err = s.DeclineApplications(f.ctx, j.ID, ids, at.Add(time.Hour))
	if err != nil {
		t.Fatalf("DeclineApplications again: %v", err)
	}
	check(t, "declined again", []string{}, res.Declined)
	check(t, "skipped again", sorted(ids...), sorted(res.Skipped...))
	f.wantApps(j.ID, append([]babysitter.Application{accepted, withdrawn}, declined...)...)

	// Nothing to do is no error.
	if _, err := s.DeclineApplications(f.ctx, j.ID, nil, now()); err != nil {
		t.Fatalf("DeclineApplications of nothing: %v", err)
	}
}

func testDeclineRefused(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p := f.parent()
	j := f.job(p.Username)
	as := f.applyAll(j.ID, f.nannies(2))
	_, err := s.DeclineApplications(f.ctx, j.ID, appIDs(as), now())
	wantErr(t, "DeclineApplications of an OPEN job", err, babysitter.ErrConflict)
	f.wantApps(j.ID, as...)
	check(t, "job after the refused declines", j, f.getJob(j.ID))

	_, err = s.DeclineApplications(f.ctx, newID(), appIDs(as), now())
	wantErr(t, "DeclineApplications of a missing job", err, babysitter.ErrNotFound)
	f.wantApps(j.ID, as...)
}

func testDeclineCancelled(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p := f.parent()
	j := f.job(p.Username)
	as := f.applyAll(j.ID, f.nannies(2))
	f.cancel(j)
	at := now()
	res, err := s.DeclineApplications(f.ctx, j.ID, appIDs(as), at)
	if err != nil {
		t.Fatalf("DeclineApplications of a CANCELLED job: %v", err)
	}
	check(t, "declined", sortedIDs(as), sorted(res.Declined...))
	check(t, "skipped", []string{}, res.Skipped)
	f.wantApps(j.ID, withStatus(as[0], babysitter.ApplicationDeclined, at), withStatus(as[1], babysitter.ApplicationDeclined, at))
}
