package storetest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/babysitter-go/babysitter"
)

// The declines of a job that has left OPEN (DeclineStore): DeclinePending
// and the outbox that DueDeclines reads and ClearDeclines clears — only
// ClearDeclines: the consumer clears an entry once the job's
// notifications are published, so that a failure before leaves it due.
var declineCases = []testCase{
	{"decline pending", testDeclinePending},
	{"decline many", testDeclineMany},
	{"decline refused", testDeclineRefused},
	{"decline after cancel", testDeclineCancelled},
	{"decline after complete", testDeclineCompleted},
	{"decline with nothing pending", testDeclineNothingPending},
	{"outbox after booking", testOutboxBook},
	{"outbox after cancel", testOutboxCancel},
	{"outbox limit", testOutboxLimit},
	{"clear declines", testClearDeclines},
}

// Outbox times. DueDeclines (and so Decliner.Sweep) takes the jobs whose
// declines have been due since before a time; on a store every case
// shares — one DynamoDB table — that includes the jobs every other case
// booked or cancelled at now(), and a limit could hide a case's own job
// behind them. So the cases that read the outbox write at times of their
// own, a day apart in 2020: DueDeclines before such a time sees the few
// jobs of the earlier slots and never the rest of the suite's, and the
// Service case that sweeps (slotSweep, the earliest) declines nothing
// another case is looking at. A new case that reads the outbox takes a
// new slot.
const (
	slotSweep = iota
	slotOutboxBook
	slotOutboxCancel
	slotOutboxComplete
	slotOutboxNothingPending
	slotOutboxLimit
	slotOutboxClear
	slotErasure // uploads.go: DueErasures
	slotNotify  // service.go: a failed notification leaves the job due
)

// dueAt is the first time of an outbox slot, with nanoseconds, so that a
// store that rounds the time of an entry shows it.
func dueAt(slot int) time.Time {
	return time.Date(2020, time.January, 1+slot, 12, 0, 0, 123456789, time.UTC)
}

// dueLimit is the limit of the fixture's DueDeclines calls: far more than
// the jobs of every slot together.
const dueLimit = 100

// due returns DueDeclines(before, limit), checking that it honours the
// limit and lists no job twice.
func (f *fixture) due(before time.Time, limit int) []string {
	f.t.Helper()
	ids, err := f.s.DueDeclines(f.ctx, before, limit)
	if err != nil {
		f.t.Fatalf("DueDeclines before %v: %v", before, err)
	}
	if len(ids) > limit {
		f.t.Errorf("DueDeclines before %v, limit %d, returned %d jobs", before, limit, len(ids))
	}
	if d := sorted(ids...); len(slices.Compact(d)) != len(ids) {
		f.t.Errorf("DueDeclines before %v lists a job twice: %v", before, ids)
	}
	return ids
}

// wantDue waits until DueDeclines lists job id as due since at: listed
// before at+1s, and not before at nor a second earlier.
func (f *fixture) wantDue(id string, at time.Time) {
	f.t.Helper()
	eventually(f.t, func() error {
		if before := at.Add(time.Second); !slices.Contains(f.due(before, dueLimit), id) {
			return fmt.Errorf("DueDeclines before %v does not list job %s, due since %v", before, id, at)
		}
		return nil
	})
	for _, before := range []time.Time{at, at.Add(-time.Second)} {
		if slices.Contains(f.due(before, dueLimit), id) {
			f.t.Errorf("DueDeclines before %v lists job %s, due only since %v", before, id, at)
		}
	}
}

// wantNotDue waits until DueDeclines before until no longer lists job id.
// until must lie in the case's slot, where only a few jobs are due.
func (f *fixture) wantNotDue(id string, until time.Time) {
	f.t.Helper()
	eventually(f.t, func() error {
		if slices.Contains(f.due(until, dueLimit), id) {
			return fmt.Errorf("DueDeclines before %v still lists job %s", until, id)
		}
		return nil
	})
}

// withdraw withdraws application a as its nanny.
func (f *fixture) withdraw(a babysitter.Application) babysitter.Application {
	f.t.Helper()
	w, err := f.s.WithdrawApplication(f.ctx, asNanny(a.NannyUsername), ref(a.JobID, a.ID), now())
	if err != nil {
		f.t.Fatalf("WithdrawApplication %s: %v", a.ID, err)
	}
	return w
}

// jobWithApplications creates an OPEN job of a new parent and n
// applications to it, of n new nannies.
func (f *fixture) jobWithApplications(n int) (babysitter.Job, []babysitter.Application) {
	f.t.Helper()
	j := f.job(f.parent().Username)
	return j, f.applyAll(j.ID, f.nannies(n))
}

// byID returns as sorted by ID, for comparing DeclineResult.Applications,
// whose order is the store's.
func byID(as []babysitter.Application) []babysitter.Application {
	out := slices.Clone(as)
	slices.SortFunc(out, func(a, b babysitter.Application) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// resultStatuses returns the status of each application a DeclineResult
// lists, failing the test for one listed twice or of another job.
func resultStatuses(t *testing.T, what, jobID string, res babysitter.DeclineResult) map[string]babysitter.ApplicationStatus {
	t.Helper()
	out := map[string]babysitter.ApplicationStatus{}
	for _, a := range res.Applications {
		if _, dup := out[a.ID]; dup || a.JobID != jobID {
			t.Errorf("%s: application %s of job %s listed (again) for job %s", what, a.ID, a.JobID, jobID)
		}
		out[a.ID] = a.Status
	}
	return out
}

// declined returns as DECLINED at at.
func declined(as []babysitter.Application, at time.Time) []babysitter.Application {
	out := make([]babysitter.Application, len(as))
	for i, a := range as {
		out[i] = withStatus(a, babysitter.ApplicationDeclined, at)
	}
	return out
}

// testDeclinePending: DeclinePending declines exactly the job's PENDING
// applications — not the ACCEPTED one, not a WITHDRAWN one, nothing of
// another job — writes nothing else (the job, the nannies), and declines
// nothing more the second time.
func testDeclinePending(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p := f.parent()
	j, other := f.job(p.Username), f.job(p.Username)
	ns := f.nannies(6)
	as := f.applyAll(j.ID, ns)
	foreign := f.apply(other.ID, ns[2].Username)
	withdrawn := f.withdraw(as[1])
	bookedJ, accepted := f.book(j, as[0])
	nanny := f.getUser(ns[2].Username)

	at := now().Add(time.Minute)
	res := f.declinePending(j.ID, at)
	check(t, "declined", sortedIDs(as[2:]), sorted(res.Declined...))
	check(t, "skipped", []string{}, res.Skipped)
	want := append([]babysitter.Application{accepted, withdrawn}, declined(as[2:], at)...)
	check(t, "the result's job", bookedJ, res.Job)
	check(t, "the result's applications", byID(want), byID(res.Applications))
	f.wantApps(j.ID, want...)
	f.wantApps(other.ID, foreign)
	check(t, "PENDING after declining", []string{}, f.pendingIDs(j.ID))
	check(t, "job after declining", bookedJ, f.getJob(j.ID))
	check(t, "a declined nanny's account", nanny, f.getUser(nanny.Username))

	// Again: nothing to decline, nothing changes (not even UpdatedOn).
	res = f.declinePending(j.ID, at.Add(time.Hour))
	check(t, "declined again", []string{}, res.Declined)
	check(t, "skipped again", []string{}, res.Skipped)
	check(t, "the result's job again", bookedJ, res.Job)
	check(t, "the result's applications again", byID(want), byID(res.Applications))
	f.wantApps(j.ID, want...)
	check(t, "job after declining again", bookedJ, f.getJob(j.ID))
}

// testDeclineMany declines more applications than one page or one
// transaction of a backend holds, some of them WITHDRAWN: each PENDING
// one is declined exactly once.
func testDeclineMany(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	j, as := f.jobWithApplications(scale(150, 30))
	var pending []babysitter.Application
	for i, a := range as[1:] {
		if i%7 == 3 {
			f.withdraw(a)
			continue
		}
		pending = append(pending, a)
	}
	f.book(j, as[0])

	res := f.declinePending(j.ID, now())
	check(t, "declined", sortedIDs(pending), sorted(res.Declined...))
	check(t, "skipped", []string{}, res.Skipped)
	check(t, "PENDING after declining", []string{}, f.pendingIDs(j.ID))
	got, err := f.applications(j.ID)
	if err != nil {
		t.Fatalf("applications: %v", err)
	}
	check(t, "the result's applications", byID(slices.Collect(maps.Values(got))), byID(res.Applications))
	check(t, "declined again", []string{}, f.declinePending(j.ID, now()).Declined)
}

func testDeclineRefused(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	j, as := f.jobWithApplications(2)
	_, err := s.DeclinePending(f.ctx, j.ID, now())
	wantErr(t, "DeclinePending of an OPEN job", err, babysitter.ErrConflict)
	f.wantApps(j.ID, as...)
	check(t, "job after the refused declines", j, f.getJob(j.ID))

	_, err = s.DeclinePending(f.ctx, newID(), now())
	wantErr(t, "DeclinePending of a missing job", err, babysitter.ErrNotFound)
	f.wantApps(j.ID, as...)

	// The job can still be booked, and then declined.
	f.book(j, as[0])
	check(t, "declined after the booking", []string{as[1].ID}, f.declinePending(j.ID, now()).Declined)
}

func testDeclineCancelled(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	j, as := f.jobWithApplications(2)
	f.cancel(j)
	at := now()
	res := f.declinePending(j.ID, at)
	check(t, "declined", sortedIDs(as), sorted(res.Declined...))
	check(t, "skipped", []string{}, res.Skipped)
	check(t, "the result's job", f.getJob(j.ID), res.Job)
	check(t, "the result's applications", byID(declined(as, at)), byID(res.Applications))
	f.wantApps(j.ID, declined(as, at)...)
}

// testDeclineCompleted: a job completed (CLOSED → COMPLETED) before its
// declines ran is still due, from the time of its booking, and its
// PENDING applications are declined.
func testDeclineCompleted(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	j, as := f.jobWithApplications(3)
	at := dueAt(slotOutboxComplete)
	r := booking(j, as[0].ID)
	r.At = at
	_, accepted, err := s.BookNanny(f.ctx, r)
	if err != nil {
		t.Fatalf("BookNanny: %v", err)
	}
	completed := f.complete(j.ID)
	f.wantDue(j.ID, at)

	decl := now()
	res := f.declinePending(j.ID, decl)
	check(t, "declined", sortedIDs(as[1:]), sorted(res.Declined...))
	f.wantApps(j.ID, append([]babysitter.Application{accepted}, declined(as[1:], decl)...)...)
	check(t, "job after declining", completed, f.getJob(j.ID))
	f.wantDue(j.ID, at) // until ClearDeclines
	f.clearDeclines(j.ID)
	f.wantNotDue(j.ID, at.Add(time.Hour))
}

// testDeclineNothingPending: a job booked with no other application, and
// one cancelled with none at all, have nothing to decline; their outbox
// entries clear all the same. (Whether such a job is recorded as due at
// all is the store's choice.)
func testDeclineNothingPending(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, n := f.parent(), f.nanny()
	booked, cancelled := f.job(p.Username), f.job(p.Username)
	at := dueAt(slotOutboxNothingPending)
	r := booking(booked, f.apply(booked.ID, n.Username).ID)
	r.At = at
	if _, _, err := s.BookNanny(f.ctx, r); err != nil {
		t.Fatalf("BookNanny: %v", err)
	}
	c := cancelling(cancelled.ID)
	c.At = at.Add(time.Minute)
	if _, err := s.TransitionJob(f.ctx, asAdmin, c); err != nil {
		t.Fatalf("TransitionJob to CANCELLED: %v", err)
	}
	for id, apps := range map[string]int{booked.ID: 1, cancelled.ID: 0} {
		res := f.declinePending(id, now())
		check(t, "declined of job "+id, []string{}, res.Declined)
		check(t, "skipped of job "+id, []string{}, res.Skipped)
		if res.Job.ID != id || len(res.Applications) != apps {
			t.Errorf("DeclinePending of job %s: result of job %q with %d applications, want %d", id, res.Job.ID, len(res.Applications), apps)
		}
		f.clearDeclines(id)
		f.wantNotDue(id, at.Add(time.Hour))
	}
}

// testOutboxBook: BookNanny records the job's declines as due at the time
// of its write; DeclinePending leaves the entry and ClearDeclines clears
// it; a retry of the booking moves nothing, before or after the entry was
// cleared; an OPEN job is never due.
func testOutboxBook(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p := f.parent()
	j, open := f.job(p.Username), f.job(p.Username)
	as := f.applyAll(j.ID, f.nannies(3))
	f.applyAll(open.ID, f.nannies(1))
	at := dueAt(slotOutboxBook)
	r := booking(j, as[0].ID)
	r.At = at
	if _, _, err := s.BookNanny(f.ctx, r); err != nil {
		t.Fatalf("BookNanny: %v", err)
	}
	f.wantDue(j.ID, at)
	end := at.Add(time.Hour) // still in the slot
	if slices.Contains(f.due(end, dueLimit), open.ID) {
		t.Errorf("DueDeclines lists the OPEN job %s", open.ID)
	}

	retry := func(when string) {
		r.At = at.Add(time.Minute)
		if _, _, err := s.BookNanny(f.ctx, r); err != nil {
			t.Fatalf("BookNanny retry %s: %v", when, err)
		}
	}
	retry("before the declines")
	f.wantDue(j.ID, at)

	check(t, "declined", sortedIDs(as[1:]), sorted(f.declinePending(j.ID, now()).Declined...))
	f.wantDue(j.ID, at)
	f.clearDeclines(j.ID)
	f.wantNotDue(j.ID, end)
	retry("after the declines")
	if slices.Contains(f.due(end, dueLimit), j.ID) {
		t.Errorf("a retry of the booking made job %s due again", j.ID)
	}
}

// testOutboxCancel: TransitionJob to CANCELLED records the job's declines
// as due at the time of its write, and ClearDeclines clears them.
func testOutboxCancel(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	j, as := f.jobWithApplications(3)
	at := dueAt(slotOutboxCancel)
	c := cancelling(j.ID)
	c.At = at
	if _, err := s.TransitionJob(f.ctx, asParent(j.ParentUsername), c); err != nil {
		t.Fatalf("TransitionJob to CANCELLED: %v", err)
	}
	f.wantDue(j.ID, at)
	decl := now()
	check(t, "declined", sortedIDs(as), sorted(f.declinePending(j.ID, decl).Declined...))
	f.wantApps(j.ID, declined(as, decl)...)
	f.wantDue(j.ID, at)
	f.clearDeclines(j.ID)
	f.wantNotDue(j.ID, at.Add(time.Hour))
}

// testOutboxLimit: DueDeclines returns at most limit jobs, and every due
// job when the limit allows.
func testOutboxLimit(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	p, n := f.parent(), f.nanny()
	at := dueAt(slotOutboxLimit)
	var jobs []string
	for i := range 3 {
		j := f.job(p.Username)
		r := booking(j, f.apply(j.ID, n.Username).ID)
		r.At = at.Add(time.Duration(i) * time.Minute)
		if _, _, err := s.BookNanny(f.ctx, r); err != nil {
			t.Fatalf("BookNanny: %v", err)
		}
		f.wantDue(j.ID, r.At)
		jobs = append(jobs, j.ID)
	}
	before := at.Add(time.Hour)
	for _, limit := range []int{1, 2} {
		if got := f.due(before, limit); len(got) != limit {
			t.Errorf("DueDeclines with limit %d, %d jobs due: got %d", limit, len(jobs), len(got))
		}
	}
	all := f.due(before, dueLimit)
	for _, id := range jobs {
		if !slices.Contains(all, id) {
			t.Errorf("DueDeclines with limit %d misses job %s", dueLimit, id)
		}
		f.declinePending(id, now())
		f.clearDeclines(id)
		f.wantNotDue(id, before)
	}
}

// testClearDeclines: clearing an entry that is not there — a job never
// due, an entry cleared already — is not an error, and clears no other
// job's.
func testClearDeclines(t *testing.T, s babysitter.Store) {
	f := setup(t, s)
	j, as := f.jobWithApplications(2)
	at := dueAt(slotOutboxClear)
	r := booking(j, as[0].ID)
	r.At = at
	if _, _, err := s.BookNanny(f.ctx, r); err != nil {
		t.Fatalf("BookNanny: %v", err)
	}
	f.wantDue(j.ID, at)
	f.clearDeclines(newID())                    // no such job
	f.clearDeclines(f.job(j.ParentUsername).ID) // OPEN, never due
	f.wantDue(j.ID, at)
	f.clearDeclines(j.ID)
	f.clearDeclines(j.ID)
	f.wantNotDue(j.ID, at.Add(time.Hour))
	check(t, "PENDING after clearing without declining", []string{as[1].ID}, f.pendingIDs(j.ID))
}
