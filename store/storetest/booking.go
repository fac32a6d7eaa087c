package storetest

import (
	"testing"
	"time"

	"github.com/babysitter-go/babysitter"
)

var bookingCases = []testCase{
	{"book", testBook},
	{"retry is idempotent", testBookRetry},
	{"second booking", testBookSecond},
	{"book refused", testBookRefused},
	{"book refused for the applicant's account", testBookApplicant},
	{"book by an admin", testBookByAdmin},
}

func testBook(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, n1, n2 := f.parent(), f.nanny(), f.nanny()
	j := f.job(p.Username)
	a1, a2 := f.apply(j.ID, n1.Username), f.apply(j.ID, n2.Username)

	at := now().Add(time.Minute)
	r := booking(j, a1.ID)
	r.At = at
	gotJ, gotA, err := s.BookNanny(f.ctx, r)
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
	check(t, "PENDING after BookNanny", []string{a2.ID}, f.pendingIDs(j.ID))
}

func testBookRetry(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, n1, n2 := f.parent(), f.nanny(), f.nanny()
	j := f.job(p.Username)
	a1, a2 := f.apply(j.ID, n1.Username), f.apply(j.ID, n2.Username)
	bookedJ, bookedA := f.book(j, a1)

	for range 2 {
		r := booking(j, a1.ID)
		r.At = now().Add(time.Hour)
		gotJ, gotA, err := s.BookNanny(f.ctx, r)
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

	_, _, err := s.BookNanny(f.ctx, booking(j, a2.ID))
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
	w, err := s.WithdrawApplication(f.ctx, asNanny(m.Username), ref(j.ID, w.ID), now())
	if err != nil {
		t.Fatalf("WithdrawApplication: %v", err)
	}
	ak := f.apply(k.ID, n.Username)
	cancelled := f.job(p.Username)
	ac := f.apply(cancelled.ID, n.Username)
	cancelled = f.cancel(cancelled)

	for _, tc := range []struct {
		name         string
		job, app, by string
		want         error
	}{
		{"by another parent", j.ID, a.ID, q.Username, babysitter.ErrForbidden},
		{"of another job's application", j.ID, ak.ID, p.Username, babysitter.ErrNotFound},
		{"of a missing application", j.ID, newID(), p.Username, babysitter.ErrNotFound},
		{"of a missing job", newID(), a.ID, p.Username, babysitter.ErrNotFound},
		{"of a WITHDRAWN application", j.ID, w.ID, p.Username, babysitter.ErrConflict},
		{"of a CANCELLED job", cancelled.ID, ac.ID, p.Username, babysitter.ErrConflict},
	} {
		_, _, err := s.BookNanny(f.ctx, babysitter.BookRequest{Guard: asParent(tc.by), ApplicationRef: ref(tc.job, tc.app), Applicant: active, At: now()})
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

// testBookApplicant books applications whose applicant's account is
// DEACTIVATED, UNVERIFIED or gone: each is a conflict that writes nothing,
// as the BookRequest's Applicant statuses say; an UNVERIFIED applicant is
// booked when they allow it. The applications that could not be booked
// are declined once the job is CLOSED.
func testBookApplicant(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p := f.parent()
	f.setStatus(p.Username, babysitter.StatusVerified)
	deactivated, unverified, deleted := f.nanny(), f.nanny(), f.nanny()
	j := f.job(p.Username)
	ad, au, ax := f.apply(j.ID, deactivated.Username), f.apply(j.ID, unverified.Username), f.apply(j.ID, deleted.Username)
	f.deactivate(deactivated.Username)
	if err := noErasure(s.DeleteUser(f.ctx, asAdmin, deleted.Username, now())); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	j = f.getJob(j.ID)

	allowUnverified := []babysitter.AccountStatus{babysitter.StatusUnverified, babysitter.StatusVerified}
	for _, tc := range []struct {
		name  string
		app   babysitter.Application
		allow []babysitter.AccountStatus
	}{
		{"DEACTIVATED", ad, verified},
		{"DEACTIVATED, UNVERIFIED allowed", ad, allowUnverified},
		{"UNVERIFIED, VERIFIED required", au, verified},
		{"deleted", ax, verified},
		{"deleted, UNVERIFIED allowed", ax, allowUnverified},
	} {
		r := booking(j, tc.app.ID)
		r.Guard.Allow = verified
		r.Applicant = tc.allow
		_, _, err := s.BookNanny(f.ctx, r)
		wantErr(t, "BookNanny of a "+tc.name+" applicant", err, babysitter.ErrConflict)
	}
	check(t, "job after the refused bookings", j, f.getJob(j.ID))
	f.wantApps(j.ID, ad, au, ax)

	r := booking(j, au.ID)
	r.Applicant = allowUnverified
	booked, accepted, err := s.BookNanny(f.ctx, r)
	if err != nil {
		t.Fatalf("BookNanny of an UNVERIFIED applicant, UNVERIFIED allowed: %v", err)
	}
	if booked.Status != babysitter.JobClosed || booked.AcceptedNanny != unverified.Username || accepted.Status != babysitter.ApplicationAccepted {
		t.Fatalf("booking: job %s accepting %q, application %s", booked.Status, booked.AcceptedNanny, accepted.Status)
	}
	check(t, "PENDING after the booking", sortedIDs([]babysitter.Application{ad, ax}), f.pendingIDs(j.ID))
	at := now()
	check(t, "declined", sorted(ad.ID, ax.ID), sorted(f.declinePending(j.ID, at).Declined...))
	f.wantApps(j.ID, accepted, withStatus(ad, babysitter.ApplicationDeclined, at), withStatus(ax, babysitter.ApplicationDeclined, at))
}

// testBookByAdmin: an admin manages every job and may book on a parent's
// behalf; the applicant's account is checked all the same.
func testBookByAdmin(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, n, m := f.parent(), f.nanny(), f.nanny()
	j := f.job(p.Username)
	a, b := f.apply(j.ID, n.Username), f.apply(j.ID, m.Username)
	f.deactivate(m.Username)
	r := booking(j, b.ID)
	r.Guard = asAdmin
	_, _, err := s.BookNanny(f.ctx, r)
	wantErr(t, "BookNanny of a DEACTIVATED applicant by an admin", err, babysitter.ErrConflict)
	check(t, "job after the refused booking", j, f.getJob(j.ID))
	r.ApplicationRef = ref(j.ID, a.ID)
	got, _, err := s.BookNanny(f.ctx, r)
	if err != nil {
		t.Fatalf("BookNanny by an admin: %v", err)
	}
	if got.Status != babysitter.JobClosed || got.AcceptedApplicationID != a.ID {
		t.Errorf("job booked by an admin is %s accepting %q", got.Status, got.AcceptedApplicationID)
	}
}
