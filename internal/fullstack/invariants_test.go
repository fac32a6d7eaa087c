package fullstack_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/queue/sqs/sqstest"
)

// The booking invariants (DESIGN.md) on DynamoDB Local and fauxqs:
//
//  1. A job has at most one ACCEPTED application, and it is CLOSED if it has one.
//  2. Once the queue drains, no application of a CLOSED job is PENDING —
//     including one submitted concurrently with the booking, and including
//     when sending to the queue failed after the booking committed.
//  3. Retrying a BookNanny that succeeded returns success and changes nothing.
//  4. Of concurrent bookings of one job exactly one wins; the others get ErrConflict.

// TestConcurrentBookers: 100 bookings of one job race, one per application.
// Exactly one wins and sends the job's one decline message, in one
// SendMessageBatch call; after the drain the job is CLOSED with one
// ACCEPTED and 99 DECLINED applications.
func TestConcurrentBookers(t *testing.T) {
	t.Parallel()
	w := newWorld(t, config{})
	n := scale(100, 20)
	parent := w.account(babysitter.RoleParent)
	job := w.job(parent)
	apps := w.apply(job.ID, w.accounts(babysitter.RoleNanny, n))

	w.calls.Reset()
	var winner atomic.Pointer[babysitter.Booking]
	errs := race(n, func(i int) error {
		b, err := w.svc.BookNanny(t.Context(), parent, job.ID, apps[i].ID)
		if err == nil {
			winner.Store(&b)
		}
		return err
	})
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, babysitter.ErrConflict):
			t.Errorf("booker %d: %v, want nil or ErrConflict", i, err)
		}
	}
	if wins != 1 {
		t.Fatalf("invariant 4: %d bookers won, want exactly 1", wins)
	}
	b := winner.Load()
	if b.DeclinesQueued != 1 {
		t.Errorf("winner queued %d decline messages, want 1", b.DeclinesQueued)
	}
	// Only the winner reaches the queue: one call carrying the job's message.
	want := [][]string{{string(babysitter.DeclineMessage(job.ID).Body)}}
	if got := w.calls.Batches(); !slices.EqualFunc(got, want, slices.Equal) || w.calls.Calls()["SendMessage"] != 0 {
		t.Errorf("the bookings sent batches %q, want %q (SQS calls: %s)", got, want, w.calls)
	}
	t.Logf("winning booking: %d declines due, SQS calls: %s", n-1, w.calls)

	w.drain(4, nil)
	st := w.checkInvariants(job.ID, n)
	if len(st[babysitter.ApplicationAccepted]) != 1 || st[babysitter.ApplicationAccepted][0].ID != b.Application.ID {
		t.Errorf("ACCEPTED %v, want the winner's %s", ids(st[babysitter.ApplicationAccepted]), b.Application.ID)
	}
	if got, _ := w.statuses(job.ID); got.Status != babysitter.JobClosed {
		t.Errorf("job is %s, want CLOSED", got.Status)
	}
	if len(st[babysitter.ApplicationDeclined]) != n-1 {
		t.Errorf("%d DECLINED, want %d", len(st[babysitter.ApplicationDeclined]), n-1)
	}
	w.checkDeclinedOnce(st)
	w.checkDLQEmpty()
	if due := w.due(); len(due) != 0 {
		t.Errorf("jobs still due after the drain: %v", due)
	}

	// Invariant 3: the winner's retry succeeds, changes nothing and sends
	// the job's message again, which declines nothing more.
	again, err := w.svc.BookNanny(t.Context(), parent, job.ID, b.Application.ID)
	if err != nil || again.DeclinesQueued != 1 || again.Job.Version != b.Job.Version || again.Application.Status != babysitter.ApplicationAccepted {
		t.Errorf("retrying the winning booking: %+v, %v; want success, the job's message sent again, nothing changed", again, err)
	}
	w.drain(4, nil)
	w.checkDeclinedOnce(w.checkInvariants(job.ID, n))
}

func ids(apps []babysitter.Application) []string {
	out := make([]string, len(apps))
	for i, a := range apps {
		out[i] = a.ID
	}
	return out
}

// TestApplyRacingBook: applications submitted concurrently with the
// booking either land before the job closes — and are declined — or are
// refused with ErrConflict. After the drain no CLOSED job has a PENDING
// application. The consumer runs throughout, as in production.
func TestApplyRacingBook(t *testing.T) {
	t.Parallel()
	w := newWorld(t, config{})
	trials, appliers := scale(20, 5), 10
	parent := w.account(babysitter.RoleParent)
	first := w.account(babysitter.RoleNanny)
	late := w.accounts(babysitter.RoleNanny, appliers)
	stop := w.run(w.poller(4, nil))

	type trial struct {
		job     string
		applied int
	}
	var done []trial
	landed := 0
	for range trials {
		job := w.job(parent)
		app := w.apply(job.ID, []babysitter.Actor{first})[0]
		var applied atomic.Int64
		errs := race(appliers+1, func(i int) error {
			if i == appliers {
				_, err := w.svc.BookNanny(t.Context(), parent, job.ID, app.ID)
				return err
			}
			// Spread the appliers around the booking, so that some land
			// before the job closes and some after.
			time.Sleep(rand.N(15 * time.Millisecond))
			_, err := w.svc.ApplyToJob(t.Context(), late[i], job.ID, babysitter.NewApplication{})
			switch {
			case err == nil:
				applied.Add(1)
			case errors.Is(err, babysitter.ErrConflict):
				return nil // the job closed first: refused, as it must be
			}
			return err
		})
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("trial on job %s: %v", job.ID, err)
		}
		done = append(done, trial{job.ID, int(applied.Load())})
		landed += int(applied.Load())
	}
	w.waitEmpty(w.q, drainTimeout)
	stop()
	declined := 0
	for _, tr := range done {
		st := w.checkInvariants(tr.job, 1+tr.applied)
		declined += len(st[babysitter.ApplicationDeclined])
		w.checkDeclinedOnce(st)
	}
	if declined != landed {
		t.Errorf("%d DECLINED, want the %d late applications that landed", declined, landed)
	}
	w.checkDLQEmpty()
	t.Logf("%d trials: %d of %d racing applications landed before the job closed", trials, landed, trials*appliers)
}

// TestSendFailsAfterCommit: sending the job's decline message fails after
// the booking committed. BookNanny reports the booking as booked — no
// error, DeclinesQueued 0, nothing in the queue — and the job's
// applications stay PENDING until a recovery the caller may choose to
// make: retrying BookNanny or ReconcileJob sends the message, and after
// the drain nothing is PENDING. (TestSendFailsThenNewProcess needs no
// caller at all.)
func TestSendFailsAfterCommit(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		entry   bool // the queue refuses the entry instead of failing the call
		recover func(w *world, parent babysitter.Actor, jobID, appID string) (int, error)
	}{
		{"retry BookNanny", false, func(w *world, parent babysitter.Actor, jobID, appID string) (int, error) {
			b, err := w.svc.BookNanny(w.t.Context(), parent, jobID, appID)
			return b.DeclinesQueued, err
		}},
		{"ReconcileJob", false, func(w *world, parent babysitter.Actor, jobID, _ string) (int, error) {
			return w.svc.ReconcileJob(w.t.Context(), parent, jobID)
		}},
		{"entry refused, ReconcileJob by an admin", true, func(w *world, _ babysitter.Actor, jobID, _ string) (int, error) {
			return w.svc.ReconcileJob(w.t.Context(), admin, jobID)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, config{})
			parent := w.account(babysitter.RoleParent)
			job := w.job(parent)
			apps := w.apply(job.ID, w.accounts(babysitter.RoleNanny, 12))
			body := string(babysitter.DeclineMessage(job.ID).Body)
			if c.entry {
				w.entryFaults.Fail(body, -1, false) // on every send
			} else {
				// Throttled on every attempt the SDK makes (5).
				w.faults.Fail("SendMessageBatch", 5, sqstest.Fault{Kind: sqstest.Throttle})
			}
			b, err := w.svc.BookNanny(t.Context(), parent, job.ID, apps[0].ID)
			if err != nil || b.DeclinesQueued != 0 {
				t.Fatalf("BookNanny with a failing queue: queued %d, %v; want 0, nil", b.DeclinesQueued, err)
			}
			if b.Job.Status != babysitter.JobClosed || b.Application.Status != babysitter.ApplicationAccepted {
				t.Fatalf("booking did not commit: job %s, application %s", b.Job.Status, b.Application.Status)
			}
			if n := w.queueLen(w.q); n != 0 {
				t.Fatalf("%d messages queued by a failed send", n)
			}
			if _, st := w.statuses(job.ID); len(st[babysitter.ApplicationPending]) != 11 {
				t.Fatalf("before recovery: %d PENDING, want 11", len(st[babysitter.ApplicationPending]))
			}
			if due := w.due(); !slices.Equal(due, []string{job.ID}) {
				t.Errorf("jobs due: %v, want the booked job %s", due, job.ID)
			}

			// The queue is back.
			w.faults.Clear("SendMessageBatch")
			w.entryFaults.Fail(body, 0, false)
			queued, err := c.recover(w, parent, job.ID, apps[0].ID)
			if err != nil || queued != 1 {
				t.Fatalf("%s: queued %d, %v; want 1, nil", c.name, queued, err)
			}
			w.drain(4, nil)
			st := w.checkInvariants(job.ID, 12)
			if len(st[babysitter.ApplicationDeclined]) != 11 {
				t.Errorf("%d DECLINED, want 11", len(st[babysitter.ApplicationDeclined]))
			}
			w.checkDeclinedOnce(st)
			w.checkDLQEmpty()
			if due := w.due(); len(due) != 0 {
				t.Errorf("jobs still due after the drain: %v", due)
			}
		})
	}
}

// booked is a CLOSED job with n applications: apps[0] ACCEPTED, apps[n-1]
// WITHDRAWN, the others PENDING with the job's decline message queued —
// plus messages of the earlier per-application format for the ACCEPTED
// and WITHDRAWN ones, which the consumer must leave alone, and, with
// legacy, for every PENDING one too (an upgrade in progress).
type booked struct {
	job                 babysitter.Job
	apps                []babysitter.Application // as applied
	accepted, withdrawn babysitter.Application   // as changed
	messages            int                      // queued for the job
}

func bookedJob(w *world, n int, legacy bool) booked {
	w.t.Helper()
	b, parent := withdrawnJob(w, n)
	ctx := w.t.Context()
	booking, err := w.svc.BookNanny(ctx, parent, b.job.ID, b.apps[0].ID)
	if err != nil || booking.DeclinesQueued != 1 {
		w.t.Fatalf("BookNanny: queued %d, %v; want 1, nil", booking.DeclinesQueued, err)
	}
	b.job, b.accepted = booking.Job, booking.Application
	extra := []babysitter.Message{legacyMessage(b.job.ID, b.accepted.ID), legacyMessage(b.job.ID, b.withdrawn.ID)}
	if legacy {
		for _, a := range b.apps[1 : n-1] {
			extra = append(extra, legacyMessage(b.job.ID, a.ID))
		}
	}
	if err := w.q.Send(ctx, extra); err != nil {
		w.t.Fatalf("Send: %v", err)
	}
	b.messages = 1 + len(extra)
	return b
}

// withdrawnJob is an OPEN job of a new parent with n applications, the
// last WITHDRAWN: a booked without its booking, and the parent.
func withdrawnJob(w *world, n int) (booked, babysitter.Actor) {
	w.t.Helper()
	parent := w.account(babysitter.RoleParent)
	nannies := w.accounts(babysitter.RoleNanny, n)
	job := w.job(parent)
	apps := w.apply(job.ID, nannies)
	withdrawn, err := w.svc.WithdrawApplication(w.t.Context(), nannies[n-1], job.ID, apps[n-1].ID)
	if err != nil {
		w.t.Fatalf("WithdrawApplication: %v", err)
	}
	return booked{job: job, apps: apps, withdrawn: withdrawn}, parent
}

// legacyMessage is a decline message as releases before the per-job one
// sent it: one per application, type babysitter.DeclineApplication.
func legacyMessage(jobID, appID string) babysitter.Message {
	return babysitter.Message{
		Body:       []byte(`{"jobId":"` + jobID + `","applicationId":"` + appID + `"}`),
		Attributes: map[string]string{"type": "babysitter.DeclineApplication", "version": "1"},
	}
}

// check asserts the final state of a booked job after the drain.
func (b booked) check(w *world) {
	w.t.Helper()
	n := len(b.apps)
	st := w.checkInvariants(b.job.ID, n)
	if acc := st[babysitter.ApplicationAccepted]; len(acc) != 1 || acc[0].ID != b.accepted.ID || !acc[0].UpdatedOn.Equal(b.accepted.UpdatedOn) {
		w.t.Errorf("ACCEPTED %+v, want %s untouched since %v", acc, b.accepted.ID, b.accepted.UpdatedOn)
	}
	if wd := st[babysitter.ApplicationWithdrawn]; len(wd) != 1 || wd[0].ID != b.withdrawn.ID || !wd[0].UpdatedOn.Equal(b.withdrawn.UpdatedOn) {
		w.t.Errorf("WITHDRAWN %+v, want %s untouched", wd, b.withdrawn.ID)
	}
	if len(st[babysitter.ApplicationDeclined]) != n-2 {
		w.t.Errorf("%d DECLINED, want %d", len(st[babysitter.ApplicationDeclined]), n-2)
	}
	w.checkDeclinedOnce(st)
	w.checkDLQEmpty()
}

// bookedJobs makes k booked jobs of n applications each and returns
// them with the number of messages queued for them all.
func bookedJobs(w *world, k, n int, legacy bool) ([]booked, int) {
	w.t.Helper()
	var (
		all      []booked
		messages int
	)
	for range k {
		b := bookedJob(w, n, legacy)
		all = append(all, b)
		messages += b.messages
	}
	return all, messages
}

// TestConsumerCrashes: the consumer fails in the middle of its work and
// messages are redelivered; each application is still declined exactly
// once in effect, nothing ACCEPTED or WITHDRAWN is touched, and nothing
// reaches the dead-letter queue. (TestLargeJob kills a consumer in the
// middle of one job's declines.)
func TestConsumerCrashes(t *testing.T) {
	t.Parallel()
	const jobs, n = 6, 8

	// The handler panics on the first delivery of some batches (before
	// doing anything), and for some messages it does the work but reports
	// them failed — a crash after the write, before the acknowledgement.
	t.Run("handler fails and panics", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, config{})
		all, _ := bookedJobs(w, jobs, n, false)
		// Chosen job messages, by body: the first batch holding a panic
		// target panics (once per target); an unack target is declined
		// but reported failed the first time it is handled.
		crash := map[string]string{}
		for i, b := range all {
			body := string(babysitter.DeclineMessage(b.job.ID).Body)
			switch {
			case i < 2:
				crash[body] = "panic"
			case i < 5:
				crash[body] = "unack"
			}
		}
		var (
			mu              sync.Mutex
			done            = map[string]bool{}
			panics, unacked int
			maxReceiveCount int
		)
		handler := func(ctx context.Context, msgs []babysitter.Message) []string {
			mu.Lock()
			for _, m := range msgs {
				maxReceiveCount = max(maxReceiveCount, m.ReceiveCount)
				if body := string(m.Body); crash[body] == "panic" && !done[body] {
					done[body] = true
					panics++
					mu.Unlock()
					panic("injected consumer crash")
				}
			}
			mu.Unlock()
			failed := w.decliner.HandleBatch(ctx, msgs)
			mu.Lock()
			defer mu.Unlock()
			for _, m := range msgs {
				if body := string(m.Body); crash[body] == "unack" && !done[body] && !slices.Contains(failed, m.ID) {
					done[body] = true
					unacked++
					failed = append(failed, m.ID)
				}
			}
			return failed
		}
		w.drain(4, handler)
		if panics == 0 || unacked != 3 {
			t.Errorf("injected %d panics and %d unacknowledged messages; want 1–2 and 3", panics, unacked)
		}
		t.Logf("%d panicking batches, %d messages declined but not acknowledged, highest receive count %d; %d declines skipped as already done",
			panics, unacked, maxReceiveCount, w.store.skipped.Load())
		for _, b := range all {
			b.check(w)
		}
	})

	// The consumer is stopped (its context cancelled) while batches are in
	// flight: Run finishes and acknowledges them, then returns; a new
	// consumer finishes the queue. No message is handled twice.
	t.Run("stopped mid-batch", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, config{})
		all, messages := bookedJobs(w, jobs, n, false)
		var (
			mu       sync.Mutex
			handled  = map[string]int{}
			started  atomic.Int64
			finished atomic.Int64
		)
		inFlight := make(chan struct{}, 1)
		handler := func(ctx context.Context, msgs []babysitter.Message) []string {
			started.Add(1)
			select {
			case inFlight <- struct{}{}:
			default:
			}
			time.Sleep(300 * time.Millisecond) // a slow batch, cancelled meanwhile
			failed := w.decliner.HandleBatch(ctx, msgs)
			mu.Lock()
			for _, m := range msgs {
				handled[m.ID]++
			}
			mu.Unlock()
			finished.Add(1)
			return failed
		}
		stop := w.run(w.poller(4, handler))
		<-inFlight
		stopAt := time.Now()
		stop()
		if s, f := started.Load(), finished.Load(); s != f {
			t.Errorf("Run returned with %d of %d batches unfinished", s-f, s)
		}
		t.Logf("stopped after %v with %d batches handled; %d messages left", time.Since(stopAt), finished.Load(), w.queueLen(w.q))

		w.drain(4, handler)
		for id, k := range handled {
			if k != 1 {
				t.Errorf("message %s handled %d times; a graceful stop acknowledges what it handled", id, k)
			}
		}
		if len(handled) != messages { // per job: its message + the 2 for ACCEPTED and WITHDRAWN
			t.Errorf("%d messages handled, want %d", len(handled), messages)
		}
		for _, b := range all {
			b.check(w)
		}
	})
}

// TestPoisonMessages: messages the consumer can never handle — a bad
// body, an unknown type, an unknown job, a job still OPEN, in either
// format — are retried until the redrive policy moves them to the
// dead-letter queue after 5 receives; the main queue drains and the good
// messages beside them are handled.
func TestPoisonMessages(t *testing.T) {
	t.Parallel()
	w := newWorld(t, config{visibility: time.Second})
	b := bookedJob(w, 6, false)
	job, withdrawn := b.job, b.withdrawn
	parent := w.account(babysitter.RoleParent)
	open := w.job(parent)

	good := babysitter.DeclineMessage(job.ID)
	poison := []babysitter.Message{
		{Body: []byte("{"), Attributes: good.Attributes},
		{Body: good.Body, Attributes: map[string]string{"type": "other", "version": "1"}},
		babysitter.DeclineMessage("0192f0c8-7a1e-7000-8000-000000000001"),
		babysitter.DeclineMessage(open.ID),
		legacyMessage(open.ID, "0192f0c8-7a1e-7000-8000-000000000003"),
	}
	if err := w.q.Send(t.Context(), poison); err != nil {
		t.Fatalf("Send: %v", err)
	}
	var receives sync.Map // body → highest ReceiveCount seen
	handler := func(ctx context.Context, msgs []babysitter.Message) []string {
		for _, m := range msgs {
			receives.Store(string(m.Body)+"|"+m.Attributes["type"], m.ReceiveCount)
		}
		return w.decliner.HandleBatch(ctx, msgs)
	}
	start := time.Now()
	w.drain(4, handler)
	t.Logf("main queue drained in %v", time.Since(start))

	var dead []string
	for deadline := time.Now().Add(10 * time.Second); len(dead) < len(poison) && time.Now().Before(deadline); {
		msgs, err := w.dlq.Receive(t.Context(), 10)
		if err != nil {
			t.Fatalf("Receive from the DLQ: %v", err)
		}
		for _, m := range msgs {
			dead = append(dead, string(m.Body)+"|"+m.Attributes["type"])
		}
	}
	var want []string
	for _, m := range poison {
		key := string(m.Body) + "|" + m.Attributes["type"]
		want = append(want, key)
		if c, _ := receives.Load(key); c != 5 {
			t.Errorf("poison message %q handled up to receive %v, want 5 (maxReceiveCount)", key, c)
		}
	}
	slices.Sort(want)
	slices.Sort(dead)
	if !slices.Equal(want, dead) {
		t.Errorf("dead-lettered %q, want %q", dead, want)
	}
	st := w.checkInvariants(job.ID, 6)
	if len(st[babysitter.ApplicationDeclined]) != 4 || len(st[babysitter.ApplicationWithdrawn]) != 1 || st[babysitter.ApplicationWithdrawn][0].ID != withdrawn.ID {
		t.Errorf("statuses after the drain: %v", st)
	}
	w.checkDeclinedOnce(st)
}

// TestSQSFaults: throttling and 5xx responses on a share of every SQS call
// the booking and the consumer make — some before the request reaches the
// server, some after it acted (the response lost) — are retried by the
// SDK. The queue holds an upgrade's mix: each job's message and one
// message of the earlier per-application format per application. Nothing
// is lost: every decline lands exactly once in effect; duplicates from
// lost send responses are absorbed by the conditional declines.
func TestSQSFaults(t *testing.T) {
	t.Parallel()
	w := newWorld(t, config{})
	faults := map[string]sqstest.Fault{
		"SendMessageBatch":        {Kind: sqstest.Throttle, When: sqstest.BeforeSend},
		"ReceiveMessage":          {Kind: sqstest.ServerError, When: sqstest.BeforeSend},
		"DeleteMessageBatch":      {Kind: sqstest.ServerError, When: sqstest.AfterCommit},
		"ChangeMessageVisibility": {Kind: sqstest.Throttle, When: sqstest.BeforeSend},
		"GetQueueAttributes":      {Kind: sqstest.ServerError, When: sqstest.BeforeSend},
	}
	for op, f := range faults {
		w.faults.FailEvery(op, 3, f)
	}
	// Besides, the first send's response is lost after the server stored
	// its batch: the SDK's retry sends the batch again.
	w.faults.Fail("SendMessageBatch", 1, sqstest.Fault{Kind: sqstest.ServerError, When: sqstest.AfterCommit})

	all, messages := bookedJobs(w, 3, 25, true)
	// The consumer's first two receives lose their responses after the
	// server handed out the messages: those come back after their
	// visibility timeout, one receive count closer to the dead-letter
	// queue. (Lost responses on every third receive would, now and then,
	// push a message past maxReceiveCount 5 — which is what the redrive
	// policy is for, but not what this test checks.)
	w.faults.Fail("ReceiveMessage", 2, sqstest.Fault{Kind: sqstest.ServerError, When: sqstest.AfterCommit})
	w.drain(4, nil)
	for _, b := range all {
		b.check(w)
	}
	var injected []string
	for op := range faults {
		k := w.faults.Injected(op)
		if k == 0 && op != "ChangeMessageVisibility" { // extensions happen only for slow batches
			t.Errorf("no fault injected into %s", op)
		}
		injected = append(injected, op+"="+strconv.Itoa(k))
	}
	slices.Sort(injected)
	t.Logf("%d messages; faults injected: %v; SQS calls: %s; attempts: %s", messages, injected, w.calls, sqstest.Format(w.calls.Attempts()))
}
