package storetest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/babysitter-go/babysitter"
	nmemory "github.com/babysitter-go/babysitter/notify/memory"
	"github.com/babysitter-go/babysitter/notify/notifytest"
	qmemory "github.com/babysitter-go/babysitter/queue/memory"
)

// The Service-level cases: the booking invariants (DESIGN.md), run through a
// Service on the store under test and an in-memory queue that the cases
// drain with a Decliner on the same store.
//
//  1. A job has at most one ACCEPTED application, and it is CLOSED if it has one.
//  2. Once the queue drains, no application of a CLOSED job is PENDING —
//     including one submitted concurrently with the booking, and including
//     when sending to the queue failed after the booking committed.
//  3. Retrying a BookNanny that succeeded returns success and changes nothing.
//  4. Of concurrent bookings of one job exactly one wins; the others get ErrConflict.
var serviceCases = []testCase{
	{"ConcurrentBookersOneWinner", testConcurrentBookers},
	{"ApplyRacingBook", testApplyRacingBook},
	{"SendFailsAfterCommit", testSendFailsAfterCommit},
	{"SendFailsThenANewProcessSweeps", testSendFailsThenSweep},
	{"RetryIsIdempotent", testRetryIsIdempotent},
	{"DeclinesAreConditional", testDeclinesAreConditional},
	{"LegacyMessages", testLegacyMessages},
	{"PoisonMessages", testPoisonMessages},
	{"CancelDeclinesPending", testCancelDeclinesPending},
	{"ReconcileJob", testReconcileJob},
	{"BookingADeactivatedNanny", testServiceBookDeactivated},
	{"RoleFromTokenNeverOverridesAccountType", testServiceRoleVersusAccount},
	{"DeletedUsernameCannotBeTakenOver", testServiceDeletedUsername},
	{"NotifiedOncePerEvent", testNotifiedOncePerEvent},
	{"NotifyFailsThenRedelivered", testNotifyFailsThenRedelivered},
}

var svcAdmin = babysitter.Actor{Username: "admin", Role: babysitter.RoleAdmin}

// flakyQueue fails every Send while fail is set.
type flakyQueue struct {
	babysitter.Queue
	fail  atomic.Bool
	sends atomic.Int64
}

func (q *flakyQueue) Send(ctx context.Context, msgs []babysitter.Message) error {
	q.sends.Add(1)
	if q.fail.Load() {
		return errors.New("injected: queue unavailable")
	}
	return q.Queue.Send(ctx, msgs)
}

// clock is the Service's clock: the time it was set to, else time.Now.
type clock struct{ at atomic.Pointer[time.Time] }

func (c *clock) Now() time.Time {
	if t := c.at.Load(); t != nil {
		return *t
	}
	return time.Now()
}

// Set stops the clock at t.
func (c *clock) Set(t time.Time) { c.at.Store(&t) }

// world is a Service on the store under test with an in-memory queue, and
// the Decliner that consumes it: one process of the marketplace.
type world struct {
	t        *testing.T
	svc      *babysitter.Service
	decliner *babysitter.Decliner
	// notes is the Decliner's Notifier.
	notes *nmemory.Notifier
	store babysitter.Store
	queue *qmemory.Queue
	flaky *flakyQueue
	clock *clock
}

// quietLog discards the logs of the Service and the Decliner: failed
// sends and poison messages are logged, on purpose.
var quietLog = slog.New(slog.DiscardHandler)

func newWorld(t *testing.T, s babysitter.Store) *world {
	q := qmemory.New(qmemory.Options{VisibilityTimeout: time.Minute, WaitTime: -1})
	fq := &flakyQueue{Queue: q}
	c := &clock{}
	notes := nmemory.New(nmemory.Options{Logger: quietLog})
	// The booking stories verify accounts without documents; the uploads
	// cases (uploads.go) verify on one.
	opts := babysitter.Options{Logger: quietLog, Now: c.Now, VerifyWithoutDocument: true}
	return &world{
		t:        t,
		svc:      babysitter.New(s, fq, opts),
		decliner: babysitter.NewDecliner(s, babysitter.DeclinerOptions{Logger: quietLog, Notifier: notes}),
		notes:    notes,
		store:    s,
		queue:    q,
		flaky:    fq,
		clock:    c,
	}
}

// queued is the number of messages in the world's queue.
func (w *world) queued() int {
	visible, inFlight := w.queue.Len()
	return visible + inFlight
}

// account creates a VERIFIED user of the role through the Service.
func (w *world) account(role babysitter.Role) babysitter.Actor {
	w.t.Helper()
	a := babysitter.Actor{Username: uniqueName(), Role: role}
	ctx := w.t.Context()
	if err := w.signUp(a, a.Username+"@example.com"); err != nil {
		w.t.Fatalf("CreateUser: %v", err)
	}
	if _, err := w.svc.UpdateUserStatus(ctx, svcAdmin, a.Username, babysitter.StatusChange{Status: babysitter.StatusVerified}); err != nil {
		w.t.Fatalf("verify: %v", err)
	}
	return a
}

// signUp creates a's own account, of the type a's role acts through,
// through the Service.
func (w *world) signUp(a babysitter.Actor, email string) error {
	_, err := w.svc.CreateUser(w.t.Context(), a, babysitter.NewUser{
		Username: a.Username, Email: email, Type: babysitter.Guard{Actor: a}.AccountType(),
		Profile: babysitter.Profile{FirstName: "F", LastName: "L", DateOfBirth: babysitter.Date{Year: 1990, Month: 1, Day: 2}},
	})
	return err
}

func (w *world) accounts(role babysitter.Role, n int) []babysitter.Actor {
	w.t.Helper()
	out := make([]babysitter.Actor, n)
	for i := range out {
		out[i] = w.account(role)
	}
	return out
}

func (w *world) job(parent babysitter.Actor) babysitter.Job {
	w.t.Helper()
	j, err := w.svc.CreateJob(w.t.Context(), parent, newJob(parent.Username).JobDetails)
	if err != nil {
		w.t.Fatalf("CreateJob: %v", err)
	}
	return j
}

func (w *world) apply(jobID string, nannies []babysitter.Actor) []babysitter.Application {
	w.t.Helper()
	apps := make([]babysitter.Application, len(nannies))
	errs := race(len(nannies), func(i int) error {
		var err error
		apps[i], err = w.svc.ApplyToJob(w.t.Context(), nannies[i], jobID, babysitter.NewApplication{})
		return err
	})
	for _, err := range errs {
		if err != nil {
			w.t.Fatalf("ApplyToJob: %v", err)
		}
	}
	return apps
}

// drain runs the Decliner over the queue until it is empty.
func (w *world) drain() {
	w.t.Helper()
	ctx := w.t.Context()
	for {
		msgs, err := w.queue.Receive(ctx, 10)
		if err != nil {
			w.t.Fatalf("Receive: %v", err)
		}
		if len(msgs) == 0 {
			if visible, inFlight := w.queue.Len(); visible+inFlight == 0 {
				return
			}
			w.t.Fatalf("queue not drained: messages failed and are in flight")
		}
		if failed := w.decliner.HandleBatch(ctx, msgs); len(failed) > 0 {
			w.t.Fatalf("HandleBatch failed %d of %d messages", len(failed), len(msgs))
		}
		if err := w.queue.Delete(ctx, msgs); err != nil {
			w.t.Fatalf("Delete: %v", err)
		}
	}
}

// statuses returns every application of the job by status, read through
// the Service as admin, all pages.
func (w *world) statuses(jobID string) (babysitter.Job, map[babysitter.ApplicationStatus][]string) {
	w.t.Helper()
	out := map[babysitter.ApplicationStatus][]string{}
	var job babysitter.Job
	p := babysitter.PageRequest{Limit: babysitter.MaxLimit}
	for {
		res, err := w.svc.ListApplicationsForJob(w.t.Context(), svcAdmin, jobID, p)
		if err != nil {
			w.t.Fatalf("ListApplicationsForJob: %v", err)
		}
		job = res.Job
		for _, a := range res.Applications.Items {
			out[a.Status] = append(out[a.Status], a.ID)
		}
		if res.Applications.NextCursor == "" {
			return job, out
		}
		p.Cursor = res.Applications.NextCursor
	}
}

// checkInvariants asserts invariants 1 and 2 after a drain.
func (w *world) checkInvariants(jobID string, wantApps int) {
	w.t.Helper()
	job, st := w.statuses(jobID)
	total := 0
	for _, ids := range st {
		total += len(ids)
	}
	if total != wantApps {
		w.t.Errorf("job has %d applications, want %d", total, wantApps)
	}
	if n := len(st[babysitter.ApplicationAccepted]); n > 1 {
		w.t.Errorf("invariant 1: %d ACCEPTED applications", n)
	} else if n == 1 && (job.Status != babysitter.JobClosed || job.AcceptedApplicationID != st[babysitter.ApplicationAccepted][0]) {
		w.t.Errorf("invariant 1: accepted %v but job is %s with accepted %q", st[babysitter.ApplicationAccepted], job.Status, job.AcceptedApplicationID)
	}
	if job.Status != babysitter.JobOpen && len(st[babysitter.ApplicationPending]) > 0 {
		w.t.Errorf("invariant 2: job %s is %s with %d PENDING applications after the drain", jobID, job.Status, len(st[babysitter.ApplicationPending]))
	}
}

func testConcurrentBookers(t *testing.T, s babysitter.Store) {
	w := newWorld(t, s)
	n := scale(100, 20)
	parent := w.account(babysitter.RoleParent)
	job := w.job(parent)
	apps := w.apply(job.ID, w.accounts(babysitter.RoleNanny, n))
	var (
		wins atomic.Int64
		won  babysitter.Booking
	)
	errs := race(n, func(i int) error {
		b, err := w.svc.BookNanny(t.Context(), parent, job.ID, apps[i].ID)
		if err == nil {
			wins.Add(1)
			won = b
		}
		return err
	})
	for i, err := range errs {
		if err != nil && !errors.Is(err, babysitter.ErrConflict) {
			t.Errorf("booker %d: %v, want nil or ErrConflict", i, err)
		}
	}
	if wins.Load() != 1 {
		t.Fatalf("invariant 4: %d bookers won, want exactly 1", wins.Load())
	}
	// The winner sent the job's one message; the losers sent nothing.
	if won.DeclinesQueued != 1 || w.flaky.sends.Load() != 1 || w.queued() != 1 {
		t.Errorf("the winner queued %d; %d sends, %d messages; want 1 each", won.DeclinesQueued, w.flaky.sends.Load(), w.queued())
	}
	w.drain()
	w.checkInvariants(job.ID, n)
	_, st := w.statuses(job.ID)
	if len(st[babysitter.ApplicationDeclined]) != n-1 {
		t.Errorf("%d DECLINED, want %d", len(st[babysitter.ApplicationDeclined]), n-1)
	}
}

func testApplyRacingBook(t *testing.T, s babysitter.Store) {
	w := newWorld(t, s)
	trials, appliers := scale(20, 5), 10
	parent := w.account(babysitter.RoleParent)
	first := w.account(babysitter.RoleNanny)
	for trial := range trials {
		job := w.job(parent)
		app := w.apply(job.ID, []babysitter.Actor{first})[0]
		late := w.accounts(babysitter.RoleNanny, appliers)
		var applied atomic.Int64
		errs := race(appliers+1, func(i int) error {
			if i == appliers {
				_, err := w.svc.BookNanny(t.Context(), parent, job.ID, app.ID)
				return err
			}
			_, err := w.svc.ApplyToJob(t.Context(), late[i], job.ID, babysitter.NewApplication{})
			if err == nil {
				applied.Add(1)
			} else if errors.Is(err, babysitter.ErrConflict) {
				return nil // the job closed first: refused, as it must be
			}
			return err
		})
		for _, err := range errs {
			if err != nil {
				t.Fatalf("trial %d: %v", trial, err)
			}
		}
		w.drain()
		w.checkInvariants(job.ID, 1+int(applied.Load()))
	}
}

// testSendFailsAfterCommit: the queue fails when BookNanny sends the
// job's message. The booking committed, so it is reported as booked, with
// nothing queued; a retry of BookNanny or a ReconcileJob sends the message
// once the queue is back, and the drain declines the rest.
func testSendFailsAfterCommit(t *testing.T, s babysitter.Store) {
	for _, recovery := range []string{"retry BookNanny", "ReconcileJob"} {
		t.Run(recovery, func(t *testing.T) {
			w := newWorld(t, s)
			parent := w.account(babysitter.RoleParent)
			job := w.job(parent)
			apps := w.apply(job.ID, w.accounts(babysitter.RoleNanny, 12))
			w.flaky.fail.Store(true)
			b, err := w.svc.BookNanny(t.Context(), parent, job.ID, apps[0].ID)
			if err != nil || b.DeclinesQueued != 0 {
				t.Fatalf("BookNanny with a failing queue: queued %d, %v; want 0, nil", b.DeclinesQueued, err)
			}
			if b.Job.Status != babysitter.JobClosed || b.Application.Status != babysitter.ApplicationAccepted {
				t.Fatalf("booking did not commit: job %s, application %s", b.Job.Status, b.Application.Status)
			}
			if w.flaky.sends.Load() != 1 || w.queued() != 0 {
				t.Fatalf("BookNanny tried %d sends and queued %d messages; want 1 try, nothing queued", w.flaky.sends.Load(), w.queued())
			}
			if _, st := w.statuses(job.ID); len(st[babysitter.ApplicationPending]) != 11 {
				t.Fatalf("before recovery: %d PENDING, want 11", len(st[babysitter.ApplicationPending]))
			}
			w.flaky.fail.Store(false)
			var queued int
			if recovery == "ReconcileJob" {
				queued, err = w.svc.ReconcileJob(t.Context(), parent, job.ID)
			} else {
				b, err = w.svc.BookNanny(t.Context(), parent, job.ID, apps[0].ID)
				queued = b.DeclinesQueued
			}
			if err != nil || queued != 1 || w.queued() != 1 {
				t.Fatalf("%s: queued %d (%d in the queue), %v; want 1, nil", recovery, queued, w.queued(), err)
			}
			w.drain()
			w.checkInvariants(job.ID, 12)
			check(t, "DECLINED", sortedIDs(apps[1:]), w.byStatus(job.ID)[babysitter.ApplicationDeclined])
		})
	}
}

// testSendFailsThenSweep: the queue fails while a parent books one job and
// cancels another; both are reported done (no error). The process dies —
// its Service is dropped, its queue with it — and a new one starts with a
// working queue. No client does anything more: the new process's
// Decliner.Sweep finds both jobs in the outbox once they have been due
// for SweepAfter, declines their PENDING applications and clears them.
//
// The Service's and the sweeper's clocks are set to the suite's earliest
// outbox slot, so that on a store every case shares the sweep touches no
// other case's jobs.
func testSendFailsThenSweep(t *testing.T, s babysitter.Store) {
	w := newWorld(t, s)
	ctx := t.Context()
	parent := w.account(babysitter.RoleParent)
	booked, cancelled := w.job(parent), w.job(parent)
	apps := w.apply(booked.ID, w.accounts(babysitter.RoleNanny, 12))
	others := w.apply(cancelled.ID, w.accounts(babysitter.RoleNanny, 3))

	at := dueAt(slotSweep)
	w.clock.Set(at)
	w.flaky.fail.Store(true)
	b, err := w.svc.BookNanny(ctx, parent, booked.ID, apps[0].ID)
	if err != nil || b.DeclinesQueued != 0 || b.Job.Status != babysitter.JobClosed {
		t.Fatalf("BookNanny with a failing queue: job %s, queued %d, %v; want CLOSED, 0, nil", b.Job.Status, b.DeclinesQueued, err)
	}
	c, err := w.svc.CancelJob(ctx, parent, cancelled.ID)
	if err != nil || c.Status != babysitter.JobCancelled {
		t.Fatalf("CancelJob with a failing queue: job %s, %v; want CANCELLED, nil", c.Status, err)
	}
	if w.flaky.sends.Load() != 2 || w.queued() != 0 {
		t.Fatalf("%d sends tried, %d messages queued; want 2 tries, nothing queued", w.flaky.sends.Load(), w.queued())
	}

	// The process dies; a new one starts with a working queue, and its
	// consumer finds nothing to do.
	w = newWorld(t, s)
	w.drain()
	pending := map[babysitter.ApplicationStatus][]string{
		babysitter.ApplicationAccepted: {apps[0].ID},
		babysitter.ApplicationPending:  sortedIDs(apps[1:]),
	}
	check(t, "booked job before the sweep", pending, w.byStatus(booked.ID))
	check(t, "cancelled job before the sweep", map[babysitter.ApplicationStatus][]string{babysitter.ApplicationPending: sortedIDs(others)}, w.byStatus(cancelled.ID))

	sweeper := func(now time.Time, after time.Duration) *babysitter.Decliner {
		return babysitter.NewDecliner(s, babysitter.DeclinerOptions{Now: func() time.Time { return now }, SweepAfter: after, Logger: quietLog, Notifier: w.notes})
	}
	// Not due for SweepAfter yet: nothing is swept.
	if n, err := sweeper(at.Add(time.Minute), time.Hour).Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("Sweep before SweepAfter: swept %d jobs, %v; want 0, nil", n, err)
	}
	check(t, "booked job after an early sweep", pending, w.byStatus(booked.ID))

	sw := sweeper(at.Add(time.Second), time.Millisecond)
	if n, err := sw.Sweep(ctx); err != nil || n != 2 {
		t.Fatalf("Sweep: swept %d jobs, %v; want 2, nil", n, err)
	}
	w.checkInvariants(booked.ID, 12)
	check(t, "booked job after the sweep", map[babysitter.ApplicationStatus][]string{
		babysitter.ApplicationAccepted: {apps[0].ID},
		babysitter.ApplicationDeclined: sortedIDs(apps[1:]),
	}, w.byStatus(booked.ID))
	check(t, "cancelled job after the sweep", map[babysitter.ApplicationStatus][]string{babysitter.ApplicationDeclined: sortedIDs(others)}, w.byStatus(cancelled.ID))
	// The sweep told everyone, once: booked, confirmed, 11 declined, 3
	// cancelled.
	for id, n := range notifytest.ExactlyThese(t, w.expected(booked.ID, cancelled.ID), w.notes.Published()) {
		if n != 1 {
			t.Errorf("notification %s published %d times by one sweep", id, n)
		}
	}
	// Both are cleared: sweeping again finds nothing.
	if n, err := sw.Sweep(ctx); err != nil || n != 0 {
		t.Errorf("Sweep again: swept %d jobs, %v; want 0, nil", n, err)
	}
	if w.queued() != 0 {
		t.Errorf("the sweep queued %d messages", w.queued())
	}
}

// testRetryIsIdempotent: a retry of a booking that succeeded succeeds,
// changes nothing and sends the job's message again, which is harmless.
func testRetryIsIdempotent(t *testing.T, s babysitter.Store) {
	w := newWorld(t, s)
	parent := w.account(babysitter.RoleParent)
	job := w.job(parent)
	apps := w.apply(job.ID, w.accounts(babysitter.RoleNanny, 3))
	first, err := w.svc.BookNanny(t.Context(), parent, job.ID, apps[1].ID)
	if err != nil || first.DeclinesQueued != 1 {
		t.Fatalf("BookNanny: queued %d, %v; want 1, nil", first.DeclinesQueued, err)
	}
	w.drain()
	settled := w.byStatus(job.ID)
	again, err := w.svc.BookNanny(t.Context(), parent, job.ID, apps[1].ID)
	if err != nil {
		t.Fatalf("retry: %v, want success", err)
	}
	if again.DeclinesQueued != 1 || w.queued() != 1 {
		t.Errorf("retry queued %d declines (%d in the queue), want the job's message again", again.DeclinesQueued, w.queued())
	}
	check(t, "job after retry", first.Job, again.Job)
	check(t, "application after retry", first.Application, again.Application)
	if _, err := w.svc.BookNanny(t.Context(), parent, job.ID, apps[0].ID); !errors.Is(err, babysitter.ErrConflict) {
		t.Errorf("booking another nanny: %v, want ErrConflict", err)
	}
	w.drain()
	check(t, "applications after the retry's message", settled, w.byStatus(job.ID))
	w.checkInvariants(job.ID, 3)
}

// legacyMessage is the decline message of releases before the per-job
// one, as they sent it: one per application.
func legacyMessage(id, jobID, appID string) babysitter.Message {
	return babysitter.Message{
		ID:         id,
		Body:       []byte(`{"jobId":"` + jobID + `","applicationId":"` + appID + `"}`),
		Attributes: map[string]string{"type": "babysitter.DeclineApplication", "version": "1"},
	}
}

// testDeclinesAreConditional: the job's message, delivered twice, and
// messages of the earlier per-application format for every application
// decline only the PENDING one; the ACCEPTED and WITHDRAWN ones keep
// their status and time.
func testDeclinesAreConditional(t *testing.T, s babysitter.Store) {
	w := newWorld(t, s)
	parent := w.account(babysitter.RoleParent)
	nannies := w.accounts(babysitter.RoleNanny, 3)
	job := w.job(parent)
	apps := w.apply(job.ID, nannies)
	withdrawn, err := w.svc.WithdrawApplication(t.Context(), nannies[2], job.ID, apps[2].ID)
	if err != nil {
		t.Fatal(err)
	}
	b, err := w.svc.BookNanny(t.Context(), parent, job.ID, apps[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []babysitter.Message
	for round := range 2 {
		m := babysitter.DeclineMessage(job.ID)
		m.ID = fmt.Sprintf("job-%d", round)
		msgs = append(msgs, m)
		for i, a := range apps {
			msgs = append(msgs, legacyMessage(fmt.Sprintf("legacy-%d-%d", round, i), job.ID, a.ID))
		}
	}
	if failed := w.decliner.HandleBatch(t.Context(), msgs); len(failed) != 0 {
		t.Fatalf("failed %v, want none", failed)
	}
	_, st := w.statuses(job.ID)
	want := map[babysitter.ApplicationStatus][]string{
		babysitter.ApplicationAccepted:  {apps[0].ID},
		babysitter.ApplicationDeclined:  {apps[1].ID},
		babysitter.ApplicationWithdrawn: {apps[2].ID},
	}
	check(t, "statuses", want, st)
	res, err := w.svc.ListApplicationsForJob(t.Context(), svcAdmin, job.ID, babysitter.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range res.Applications.Items {
		switch a.ID {
		case b.Application.ID:
			check(t, "the ACCEPTED application", b.Application, a)
		case withdrawn.ID:
			check(t, "the WITHDRAWN application", withdrawn, a)
		}
	}
}

// testLegacyMessages: during an upgrade the queue still holds messages of
// the earlier per-application format — here for a booked job whose
// per-job message never came. Each is handled as its job's message: the
// first declines every PENDING application, the others find nothing
// left, and none fails.
func testLegacyMessages(t *testing.T, s babysitter.Store) {
	w := newWorld(t, s)
	parent := w.account(babysitter.RoleParent)
	job := w.job(parent)
	apps := w.apply(job.ID, w.accounts(babysitter.RoleNanny, 6))
	w.flaky.fail.Store(true) // the per-job message is lost
	if _, err := w.svc.BookNanny(t.Context(), parent, job.ID, apps[0].ID); err != nil {
		t.Fatal(err)
	}
	w.flaky.fail.Store(false)
	var msgs []babysitter.Message
	for i, a := range apps[1:] {
		msgs = append(msgs, legacyMessage(fmt.Sprintf("legacy-%d", i), job.ID, a.ID))
	}
	if err := w.queue.Send(t.Context(), msgs[:3]); err != nil {
		t.Fatalf("Send: %v", err)
	}
	w.drain()
	w.checkInvariants(job.ID, 6)
	check(t, "DECLINED after the drain", sortedIDs(apps[1:]), w.byStatus(job.ID)[babysitter.ApplicationDeclined])
	// The rest, redelivered in one batch, change nothing.
	if failed := w.decliner.HandleBatch(t.Context(), msgs); len(failed) != 0 {
		t.Fatalf("failed %v, want none", failed)
	}
	check(t, "DECLINED after the rest", sortedIDs(apps[1:]), w.byStatus(job.ID)[babysitter.ApplicationDeclined])
}

// testPoisonMessages: messages the Decliner can never handle fail, each
// by its ID, in both formats: a job still OPEN, an unknown job, a bad
// body, an unknown type or version, a legacy message without its
// application.
func testPoisonMessages(t *testing.T, s babysitter.Store) {
	w := newWorld(t, s)
	parent := w.account(babysitter.RoleParent)
	open := w.job(parent)
	apps := w.apply(open.ID, w.accounts(babysitter.RoleNanny, 1))
	good := babysitter.DeclineMessage(open.ID)
	good.ID = "open-job"
	unknown := babysitter.DeclineMessage(newID())
	unknown.ID = "unknown-job"
	legacyOpen := legacyMessage("legacy-open-job", open.ID, apps[0].ID)
	legacyNoApp := legacyMessage("legacy-no-application", open.ID, "")
	legacyNoApp.Body = []byte(`{"jobId":"` + open.ID + `"}`)
	legacyVersion := legacyMessage("legacy-bad-version", open.ID, apps[0].ID)
	legacyVersion.Attributes["version"] = "2"
	failed := w.decliner.HandleBatch(t.Context(), []babysitter.Message{
		good, unknown, legacyOpen, legacyNoApp, legacyVersion,
		{ID: "bad-body", Body: []byte("{"), Attributes: good.Attributes},
		{ID: "unknown-field", Body: []byte(`{"jobId":"` + open.ID + `","x":1}`), Attributes: good.Attributes},
		{ID: "bad-type", Body: good.Body, Attributes: map[string]string{"type": "other", "version": "1"}},
		{ID: "bad-version", Body: good.Body, Attributes: map[string]string{"type": babysitter.DeclineMessageType, "version": "9"}},
	})
	check(t, "failed IDs", sorted("open-job", "unknown-job", "legacy-open-job", "legacy-no-application", "legacy-bad-version",
		"bad-body", "unknown-field", "bad-type", "bad-version"), sorted(failed...))
	check(t, "applications of the OPEN job", map[babysitter.ApplicationStatus][]string{babysitter.ApplicationPending: {apps[0].ID}}, w.byStatus(open.ID))
}

func testCancelDeclinesPending(t *testing.T, s babysitter.Store) {
	w := newWorld(t, s)
	parent := w.account(babysitter.RoleParent)
	job := w.job(parent)
	apps := w.apply(job.ID, w.accounts(babysitter.RoleNanny, 4))
	if _, err := w.svc.CancelJob(t.Context(), parent, job.ID); err != nil {
		t.Fatal(err)
	}
	if w.queued() != 1 {
		t.Errorf("CancelJob queued %d messages, want the job's 1", w.queued())
	}
	w.drain()
	j, st := w.statuses(job.ID)
	if j.Status != babysitter.JobCancelled {
		t.Errorf("after cancel: job %s", j.Status)
	}
	check(t, "DECLINED after the drain", sortedIDs(apps), sorted(st[babysitter.ApplicationDeclined]...))
}

// testReconcileJob: ReconcileJob sends the job's one message for a job
// that is no longer OPEN, for its parent or an admin; it refuses an OPEN
// job, a missing one and another parent, sending nothing.
func testReconcileJob(t *testing.T, s babysitter.Store) {
	w := newWorld(t, s)
	ctx := t.Context()
	parent, other := w.account(babysitter.RoleParent), w.account(babysitter.RoleParent)
	job, open := w.job(parent), w.job(parent)
	apps := w.apply(job.ID, w.accounts(babysitter.RoleNanny, 4))
	w.apply(open.ID, w.accounts(babysitter.RoleNanny, 1))
	w.flaky.fail.Store(true)
	if _, err := w.svc.BookNanny(ctx, parent, job.ID, apps[0].ID); err != nil {
		t.Fatal(err)
	}
	w.flaky.fail.Store(false)

	for _, tc := range []struct {
		name string
		by   babysitter.Actor
		job  string
		want error
	}{
		{"of an OPEN job", parent, open.ID, babysitter.ErrConflict},
		{"of a missing job", parent, newID(), babysitter.ErrNotFound},
		{"by another parent", other, job.ID, babysitter.ErrForbidden},
	} {
		n, err := w.svc.ReconcileJob(ctx, tc.by, tc.job)
		if !errors.Is(err, tc.want) || n != 0 {
			t.Errorf("ReconcileJob %s: sent %d, %v; want 0, %v", tc.name, n, err, tc.want)
		}
	}
	if w.queued() != 0 {
		t.Fatalf("refused ReconcileJobs queued %d messages", w.queued())
	}
	for i, by := range []babysitter.Actor{parent, svcAdmin} {
		n, err := w.svc.ReconcileJob(ctx, by, job.ID)
		if err != nil || n != 1 || w.queued() != 1 {
			t.Fatalf("ReconcileJob %d by %s: sent %d (%d queued), %v; want 1, nil", i, by.Role, n, w.queued(), err)
		}
		w.drain()
		w.checkInvariants(job.ID, 4)
		check(t, "DECLINED", sortedIDs(apps[1:]), w.byStatus(job.ID)[babysitter.ApplicationDeclined])
	}
}

// byStatus returns each status's application IDs, sorted.
func (w *world) byStatus(jobID string) map[babysitter.ApplicationStatus][]string {
	w.t.Helper()
	_, st := w.statuses(jobID)
	for k, ids := range st {
		st[k] = sorted(ids...)
	}
	return st
}

// wantRefused fails unless err is of kind, naming the step of a scenario.
func wantRefused(t *testing.T, step string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("%s: got error %v, want %v", step, err, kind)
	}
}

// testServiceBookDeactivated is issue 12's first scenario: a parent books
// a nanny whose account an admin has DEACTIVATED. It is a conflict that
// writes and queues nothing; the job is then booked with another nanny,
// and the Decliner declines the deactivated nanny's application with the
// rest.
func testServiceBookDeactivated(t *testing.T, s babysitter.Store) {
	w := newWorld(t, s)
	ctx := t.Context()
	parent := w.account(babysitter.RoleParent)
	job := w.job(parent)
	apps := w.apply(job.ID, w.accounts(babysitter.RoleNanny, 3))
	if _, err := w.svc.UpdateUserStatus(ctx, svcAdmin, apps[0].NannyUsername, babysitter.StatusChange{Status: babysitter.StatusDeactivated}); err != nil {
		t.Fatalf("UpdateUserStatus: %v", err)
	}

	_, err := w.svc.BookNanny(ctx, parent, job.ID, apps[0].ID)
	wantRefused(t, "BookNanny of a DEACTIVATED nanny", err, babysitter.ErrConflict)
	got, err := w.svc.GetJob(ctx, parent, job.ID)
	if err != nil {
		t.Fatalf("GetJob: %v", err)
	}
	check(t, "job after the refused booking", job, got)
	check(t, "applications after the refused booking", map[babysitter.ApplicationStatus][]string{
		babysitter.ApplicationPending: sortedIDs(apps),
	}, w.byStatus(job.ID))
	if w.queued() != 0 {
		t.Errorf("the refused booking queued %d messages", w.queued())
	}

	b, err := w.svc.BookNanny(ctx, parent, job.ID, apps[1].ID)
	if err != nil {
		t.Fatalf("BookNanny of a VERIFIED nanny: %v", err)
	}
	if b.DeclinesQueued != 1 || w.queued() != 1 {
		t.Errorf("BookNanny queued %d declines (%d in the queue), want the job's 1", b.DeclinesQueued, w.queued())
	}
	w.drain()
	w.checkInvariants(job.ID, 3)
	check(t, "applications after the drain", map[babysitter.ApplicationStatus][]string{
		babysitter.ApplicationAccepted: {apps[1].ID},
		babysitter.ApplicationDeclined: sorted(apps[0].ID, apps[2].ID),
	}, w.byStatus(job.ID))
}

// testServiceRoleVersusAccount is issue 12's second scenario: the role
// comes from the token alone and must never be held against the stored
// account type. alice, a PARENT account reviewed once, with a token in the
// nanny group, applies to her own job, books, completes and reviews
// herself; a NANNY account with a parent token creates a job. Each step
// is refused and alice's rating count stays 1.
func testServiceRoleVersusAccount(t *testing.T, s babysitter.Store) {
	w := newWorld(t, s)
	ctx := t.Context()
	alice, nanny := w.account(babysitter.RoleParent), w.account(babysitter.RoleNanny)
	done := w.completedJob(alice, nanny)
	if _, err := w.svc.LeaveReview(ctx, nanny, done.ID, ofParent(4)); err != nil {
		t.Fatalf("the nanny reviews alice: %v", err)
	}
	rating := babysitter.Rating{Count: 1, Sum: 4}
	check(t, "alice's rating", rating, w.rating(alice.Username))
	open := w.job(alice)
	closed := w.job(alice)
	app := w.apply(closed.ID, []babysitter.Actor{nanny})[0]
	if _, err := w.svc.BookNanny(ctx, alice, closed.ID, app.ID); err != nil {
		t.Fatalf("BookNanny: %v", err)
	}
	w.drain()

	aliceNanny := babysitter.Actor{Username: alice.Username, Role: babysitter.RoleNanny}
	_, err := w.svc.ApplyToJob(ctx, aliceNanny, open.ID, babysitter.NewApplication{})
	wantRefused(t, "alice with a nanny token applies to her own job", err, babysitter.ErrForbidden)
	other := w.job(w.account(babysitter.RoleParent))
	_, err = w.svc.ApplyToJob(ctx, aliceNanny, other.ID, babysitter.NewApplication{})
	wantRefused(t, "alice with a nanny token applies to another parent's job", err, babysitter.ErrForbidden)
	_, err = w.svc.BookNanny(ctx, aliceNanny, open.ID, newID())
	wantRefused(t, "alice with a nanny token books", err, babysitter.ErrForbidden)
	_, err = w.svc.CompleteJob(ctx, aliceNanny, closed.ID)
	wantRefused(t, "alice with a nanny token completes her job", err, babysitter.ErrForbidden)
	for _, j := range []babysitter.Job{done, closed} {
		_, err = w.svc.LeaveReview(ctx, aliceNanny, j.ID, ofParent(5))
		wantRefused(t, "alice with a nanny token reviews the parent, herself", err, babysitter.ErrForbidden)
	}
	_, err = w.svc.ListJobsAppliedTo(ctx, aliceNanny, alice.Username, babysitter.PageRequest{})
	wantRefused(t, "alice with a nanny token lists her applications", err, babysitter.ErrForbidden)

	check(t, "alice's rating after the refusals", rating, w.rating(alice.Username))
	for _, j := range []babysitter.Job{open, other} {
		check(t, "applications of the OPEN job "+j.ID, map[babysitter.ApplicationStatus][]string{}, w.byStatus(j.ID))
	}
	j, st := w.statuses(closed.ID)
	if j.Status != babysitter.JobClosed || len(st[babysitter.ApplicationAccepted]) != 1 {
		t.Errorf("alice's booked job is %s with applications %v, want CLOSED as booked", j.Status, st)
	}

	nannyParent := babysitter.Actor{Username: nanny.Username, Role: babysitter.RoleParent}
	_, err = w.svc.CreateJob(ctx, nannyParent, newJob(nanny.Username).JobDetails)
	wantRefused(t, "a NANNY account with a parent token creates a job", err, babysitter.ErrForbidden)
	jobs, err := w.svc.ListJobsByParent(ctx, svcAdmin, nanny.Username, babysitter.PageRequest{})
	if err != nil {
		t.Fatalf("ListJobsByParent: %v", err)
	}
	check(t, "jobs of the NANNY account", []babysitter.Job(nil), jobs.Jobs.Items)
}

// testServiceDeletedUsername is issue 12's third scenario: a parent
// deletes their account while owning a CLOSED job; a new user registers
// the same username, then reads the old job's applicants, completes it
// and reviews the nanny. The registration is refused (the username's
// tombstone) and so is everything else: the job is no one's.
func testServiceDeletedUsername(t *testing.T, s babysitter.Store) {
	w := newWorld(t, s)
	ctx := t.Context()
	parent, nanny := w.account(babysitter.RoleParent), w.account(babysitter.RoleNanny)
	job := w.job(parent)
	app := w.apply(job.ID, []babysitter.Actor{nanny})[0]
	booked, err := w.svc.BookNanny(ctx, parent, job.ID, app.ID)
	if err != nil {
		t.Fatalf("BookNanny: %v", err)
	}
	w.drain()
	if err := w.svc.DeleteUser(ctx, parent, parent.Username); err != nil {
		t.Fatalf("DeleteUser of a parent with a CLOSED job: %v", err)
	}

	for _, role := range []babysitter.Role{babysitter.RoleParent, babysitter.RoleNanny} {
		newcomer := babysitter.Actor{Username: parent.Username, Role: role}
		err := w.signUp(newcomer, "new-"+uniqueName()+"@example.org")
		if !isExists(err, babysitter.FieldUsername) {
			t.Errorf("CreateUser of the deleted username with a %s token: got %v, want *AlreadyExistsError on username", role, err)
		}
	}
	_, err = w.svc.ListApplicationsForJob(ctx, parent, job.ID, babysitter.PageRequest{})
	wantRefused(t, "the newcomer reads the old job's applicants", err, babysitter.ErrForbidden)
	_, err = w.svc.CompleteJob(ctx, parent, job.ID)
	wantRefused(t, "the newcomer completes the old job", err, babysitter.ErrForbidden)
	_, err = w.svc.LeaveReview(ctx, parent, job.ID, ofNanny(1))
	wantRefused(t, "the newcomer reviews the nanny", err, babysitter.ErrForbidden)
	_, err = w.svc.CreateJob(ctx, parent, newJob(parent.Username).JobDetails)
	wantRefused(t, "the newcomer creates a job", err, babysitter.ErrForbidden)

	if _, err := w.svc.GetUser(ctx, svcAdmin, parent.Username); !errors.Is(err, babysitter.ErrNotFound) {
		t.Errorf("GetUser of the deleted username: got %v, want not found", err)
	}
	j, st := w.statuses(job.ID)
	check(t, "the old job", booked.Job, j)
	check(t, "the old job's applications", map[babysitter.ApplicationStatus][]string{babysitter.ApplicationAccepted: {app.ID}}, st)
	check(t, "the nanny's rating", babysitter.Rating{}, w.rating(nanny.Username))
}

// expected returns the notifications the jobs' applications as stored
// call for, built by hand: booked and bookingConfirmed for the ACCEPTED
// one, declined (jobCancelled for a CANCELLED job) for each DECLINED one,
// at the application's UpdatedOn.
func (w *world) expected(jobIDs ...string) []babysitter.Notification {
	w.t.Helper()
	var out []babysitter.Notification
	for _, id := range jobIDs {
		res, err := w.svc.ListApplicationsForJob(w.t.Context(), svcAdmin, id, babysitter.PageRequest{Limit: babysitter.MaxLimit})
		if err != nil {
			w.t.Fatalf("ListApplicationsForJob: %v", err)
		}
		for _, a := range res.Applications.Items {
			ref := babysitter.ApplicationRef{JobID: id, ApplicationID: a.ID}
			switch {
			case a.Status == babysitter.ApplicationAccepted:
				out = append(out,
					babysitter.NewNotification(babysitter.NotifyBooked, ref, a.NannyUsername, a.UpdatedOn),
					babysitter.NewNotification(babysitter.NotifyBookingConfirmed, ref, res.Job.ParentUsername, a.UpdatedOn))
			case a.Status == babysitter.ApplicationDeclined && res.Job.Status == babysitter.JobCancelled:
				out = append(out, babysitter.NewNotification(babysitter.NotifyJobCancelled, ref, a.NannyUsername, a.UpdatedOn))
			case a.Status == babysitter.ApplicationDeclined:
				out = append(out, babysitter.NewNotification(babysitter.NotifyDeclined, ref, a.NannyUsername, a.UpdatedOn))
			}
		}
	}
	return out
}

// testNotifiedOncePerEvent: after the drain the booked nanny is told, the
// parent gets a confirmation, each declined applicant is told — nobody
// who withdrew — and a cancelled job's applicants are told; each event
// once, and nothing before the drain (never on the caller's path). A
// second message for a job (a ReconcileJob) publishes the same events
// again, identical: subscribers dedupe on the ID.
func testNotifiedOncePerEvent(t *testing.T, s babysitter.Store) {
	w := newWorld(t, s)
	ctx := t.Context()
	parent := w.account(babysitter.RoleParent)
	booked, cancelled := w.job(parent), w.job(parent)
	apps := w.apply(booked.ID, w.accounts(babysitter.RoleNanny, 4))
	w.apply(cancelled.ID, w.accounts(babysitter.RoleNanny, 2))
	if _, err := w.svc.WithdrawApplication(ctx, babysitter.Actor{Username: apps[3].NannyUsername, Role: babysitter.RoleNanny}, booked.ID, apps[3].ID); err != nil {
		t.Fatalf("WithdrawApplication: %v", err)
	}
	if _, err := w.svc.BookNanny(ctx, parent, booked.ID, apps[0].ID); err != nil {
		t.Fatalf("BookNanny: %v", err)
	}
	if _, err := w.svc.CancelJob(ctx, parent, cancelled.ID); err != nil {
		t.Fatalf("CancelJob: %v", err)
	}
	if n := len(w.notes.Published()); n != 0 {
		t.Fatalf("%d notifications before the drain: never on the caller's path", n)
	}
	w.drain()
	want := w.expected(booked.ID, cancelled.ID)
	if len(want) != 2+2+2 {
		t.Fatalf("expected %d notifications, want 6 (booked, confirmed, 2 declined, 2 cancelled)", len(want))
	}
	for id, n := range notifytest.ExactlyThese(t, want, w.notes.Published()) {
		if n != 1 {
			t.Errorf("notification %s published %d times", id, n)
		}
	}
	for _, n := range w.notes.Published() {
		if n.Recipient == apps[3].NannyUsername {
			t.Errorf("the nanny who withdrew was told %s", n.Type)
		}
	}

	if _, err := w.svc.ReconcileJob(ctx, parent, booked.ID); err != nil {
		t.Fatalf("ReconcileJob: %v", err)
	}
	w.drain()
	counts := notifytest.ExactlyThese(t, want, w.notes.Published())
	for _, n := range w.expected(booked.ID) {
		if counts[n.ID] != 2 {
			t.Errorf("after the job's second message, %s published %d times, want 2 (at least once, the same ID)", n.ID, counts[n.ID])
		}
	}
}

// testNotifyFailsThenRedelivered: publishing fails after the declines; the
// message fails, the job stays due, and nothing is published. Delivered
// again, it declines nothing more, publishes every notification — the
// same ones — and clears the job.
func testNotifyFailsThenRedelivered(t *testing.T, s babysitter.Store) {
	w := newWorld(t, s)
	ctx := t.Context()
	parent := w.account(babysitter.RoleParent)
	job := w.job(parent)
	apps := w.apply(job.ID, w.accounts(babysitter.RoleNanny, 3))
	at := dueAt(slotNotify)
	w.clock.Set(at)
	if _, err := w.svc.BookNanny(ctx, parent, job.ID, apps[0].ID); err != nil {
		t.Fatalf("BookNanny: %v", err)
	}
	msgs, err := w.queue.Receive(ctx, 10)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Receive: %d messages, %v", len(msgs), err)
	}
	w.notes.FailNext(1)
	if failed := w.decliner.HandleBatch(ctx, msgs); len(failed) != 1 {
		t.Fatalf("HandleBatch with a failing notifier: %d failed, want the message", len(failed))
	}
	check(t, "declined before the notifications", sortedIDs(apps[1:]), w.byStatus(job.ID)[babysitter.ApplicationDeclined])
	f := setup(t, s)
	f.wantDue(job.ID, at)
	if n := len(w.notes.Published()); n != 0 {
		t.Fatalf("%d notifications published by the failed call", n)
	}

	// Redelivered.
	if failed := w.decliner.HandleBatch(ctx, msgs); len(failed) != 0 {
		t.Fatalf("HandleBatch redelivered: %d failed", len(failed))
	}
	for id, n := range notifytest.ExactlyThese(t, w.expected(job.ID), w.notes.Published()) {
		if n != 1 {
			t.Errorf("notification %s published %d times", id, n)
		}
	}
	f.wantNotDue(job.ID, at.Add(time.Hour))
}
