package fullstack_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-cmp/cmp"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/queue/sqs/sqstest"
)

// The decline of one job's applications — one message per job since the
// second milestone — at scale, through a consumer that dies, across an
// upgrade from the per-application messages, and with the message lost.

// TestLargeJob: one job with 5,000 applications (500 with -short), booked
// with one of them. Its one message declines the 4,999 others; a consumer
// that dies partway through them leaves the rest to the redelivered
// message; the same message handled again changes nothing.
func TestLargeJob(t *testing.T) {
	t.Parallel()
	n := scale(5000, 500)
	w := newWorld(t, config{})
	parent := w.account(babysitter.RoleParent)
	start := time.Now()
	nannies := seedNannies(w, n)
	t.Logf("%d nannies seeded in %v", n, time.Since(start))

	// The subtests run one after the other: each is already as parallel
	// as the servers can take.
	t.Run("drain", func(t *testing.T) {
		w := w.with(t)
		job, apps := bookedLargeJob(w, parent, nannies)
		start := time.Now()
		w.drain(4, nil)
		t.Logf("%d applications declined in %v", n-1, time.Since(start))
		st := w.checkInvariants(job.ID, n)
		if len(st[babysitter.ApplicationDeclined]) != n-1 || len(st[babysitter.ApplicationAccepted]) != 1 || st[babysitter.ApplicationAccepted][0].ID != apps[0].ID {
			t.Errorf("after the drain: %d DECLINED, ACCEPTED %v; want %d and %s", len(st[babysitter.ApplicationDeclined]), ids(st[babysitter.ApplicationAccepted]), n-1, apps[0].ID)
		}
		w.checkDeclinedOnce(st)
		w.checkDLQEmpty()
		if due := w.due(); len(due) != 0 {
			t.Errorf("jobs still due after the drain: %v", due)
		}

		// The message again, delivered twice and handled each time, as a
		// redelivery does: nothing changes, not even UpdatedOn.
		if err := w.q.Send(t.Context(), []babysitter.Message{babysitter.DeclineMessage(job.ID)}); err != nil {
			t.Fatalf("Send: %v", err)
		}
		msgs := w.receive(1)
		for range 2 {
			if failed := w.decliner.HandleBatch(t.Context(), msgs); len(failed) != 0 {
				t.Fatalf("handling the message again failed: %v", failed)
			}
		}
		if err := w.q.Delete(t.Context(), msgs); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		_, again := w.statuses(job.ID)
		if d := cmp.Diff(st, again); d != "" {
			t.Errorf("the message handled again changed applications (-before +after):\n%s", d)
		}
		w.checkDeclinedOnce(again)
	})

	t.Run("consumer dies partway", func(t *testing.T) {
		w := w.with(t)
		job, _ := bookedLargeJob(w, parent, nannies)

		// The dying consumer is a process of its own whose DynamoDB client
		// cancels its context as soon as its first write has landed and
		// refuses every later one; the writes it already had in flight
		// land too.
		k := &killer{after: 1}
		dying := w.restart(func(o *awsddb.Options) { o.APIOptions = append(o.APIOptions, k.Register) })
		died := make(chan []string, 1)
		handler := func(ctx context.Context, msgs []babysitter.Message) []string {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			if !k.arm(cancel) {
				return messageIDs(msgs) // dead: it handles nothing more
			}
			failed := dying.decliner.HandleBatch(ctx, msgs)
			died <- failed
			return failed
		}
		stop := w.run(dying.poller(1, handler))
		var failed []string
		select {
		case failed = <-died:
		case <-time.After(drainTimeout):
			t.Fatalf("the dying consumer handled nothing in %v", drainTimeout)
		}
		stop()
		if len(failed) != 1 {
			t.Fatalf("the dying consumer failed %d messages, want the job's 1", len(failed))
		}
		_, st := w.statuses(job.ID)
		before := ids(st[babysitter.ApplicationDeclined])
		t.Logf("the consumer died after %d of %d declines (%d write requests)", len(before), n-1, k.requests())
		if len(before) == 0 || len(before) >= n-1 {
			t.Fatalf("the consumer died after %d of %d declines, want some but not all", len(before), n-1)
		}
		if due := w.due(); !slices.Equal(due, []string{job.ID}) {
			t.Errorf("jobs due after the death: %v, want %s", due, job.ID)
		}

		// A new consumer gets the message once its visibility timeout has
		// run out and declines the rest.
		next := w.restart()
		var receives atomic.Int64
		next.drain(4, func(ctx context.Context, msgs []babysitter.Message) []string {
			for _, m := range msgs {
				receives.Store(max(receives.Load(), int64(m.ReceiveCount)))
			}
			return next.decliner.HandleBatch(ctx, msgs)
		})
		if r := receives.Load(); r < 2 {
			t.Errorf("the new consumer saw receive count %d, want a redelivery (≥ 2)", r)
		}
		st = next.checkInvariants(job.ID, n)
		if len(st[babysitter.ApplicationDeclined]) != n-1 {
			t.Errorf("%d DECLINED after the new consumer, want %d", len(st[babysitter.ApplicationDeclined]), n-1)
		}
		// Each declined once in effect: by the dead consumer or by the
		// new one, never both.
		counts := next.store.declines()
		for _, id := range before {
			if counts[id] != 0 {
				t.Errorf("application %s, declined before the death, declined again by the new consumer", id)
			}
		}
		rest := 0
		for id, c := range counts {
			rest++
			if c != 1 {
				t.Errorf("application %s declined %d times by the new consumer", id, c)
			}
		}
		if len(before)+rest != n-1 {
			t.Errorf("%d declined before the death + %d after = %d, want %d", len(before), rest, len(before)+rest, n-1)
		}
		next.checkDLQEmpty()
		if due := next.due(); len(due) != 0 {
			t.Errorf("jobs still due after the new consumer: %v", due)
		}
	})
}

// bookedLargeJob seeds a job of parent with one application per nanny and
// books the first through the Service, which sends the job's one message.
func bookedLargeJob(w *world, parent babysitter.Actor, nannies []string) (babysitter.Job, []babysitter.Application) {
	w.t.Helper()
	start := time.Now()
	job, apps := seedJob(w, parent, nannies)
	w.t.Logf("%d applications seeded in %v", len(apps), time.Since(start))
	w.calls.Reset()
	b, err := w.svc.BookNanny(w.t.Context(), parent, job.ID, apps[0].ID)
	if err != nil || b.DeclinesQueued != 1 {
		w.t.Fatalf("BookNanny: queued %d, %v; want 1, nil", b.DeclinesQueued, err)
	}
	if sends := w.calls.Calls()["SendMessageBatch"]; sends != 1 {
		w.t.Errorf("BookNanny of a job with %d applications made %d SendMessageBatch calls, want 1", len(apps), sends)
	}
	return b.Job, apps
}

// with returns w for another test (a subtest): the same process, failing t.
func (w *world) with(t testing.TB) *world {
	c := *w
	c.t = t
	return &c
}

// receive receives from the world's queue until it has n messages.
func (w *world) receive(n int) []babysitter.Message {
	w.t.Helper()
	var msgs []babysitter.Message
	for deadline := time.Now().Add(drainTimeout); len(msgs) < n; {
		if time.Now().After(deadline) {
			w.t.Fatalf("received %d of %d messages in %v", len(msgs), n, drainTimeout)
		}
		got, err := w.q.Receive(w.t.Context(), min(10, n-len(msgs)))
		if err != nil {
			w.t.Fatalf("Receive: %v", err)
		}
		msgs = append(msgs, got...)
	}
	return msgs
}

func messageIDs(msgs []babysitter.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

// killer is a DynamoDB client middleware that kills a consumer partway
// through its writes: once the write requests it let through have carried
// `after` items, it cancels the consumer's context (see arm) and refuses
// every later write without sending it. Writes already on their way run
// to completion on a context without the cancellation, so once the
// consumer's call has returned the table holds all it will ever hold of
// the dead consumer's work. Reads pass; with the context cancelled they
// fail on their own.
type killer struct {
	after int

	mu      sync.Mutex
	armed   bool
	dead    bool
	cancel  context.CancelFunc
	items   int
	written int // write requests let through
}

// arm hands the killer the consumer's cancel function; false when the
// consumer is already dead.
func (k *killer) arm(cancel context.CancelFunc) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.dead || k.armed {
		return false
	}
	k.armed, k.cancel = true, cancel
	return true
}

func (k *killer) requests() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.written
}

// Register is the API option adding the middleware to a client.
func (k *killer) Register(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("fullstack.killer",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			items := writeItems(in.Parameters)
			if items == 0 {
				return next.HandleInitialize(ctx, in)
			}
			k.mu.Lock()
			dead := k.dead
			if !dead {
				k.written++
			}
			k.mu.Unlock()
			if dead {
				return middleware.InitializeOutput{}, middleware.Metadata{}, fmt.Errorf("fullstack: the consumer is dead: %w", context.Canceled)
			}
			out, md, err := next.HandleInitialize(context.WithoutCancel(ctx), in)
			k.mu.Lock()
			k.items += items
			if k.items >= k.after && !k.dead && k.armed {
				k.dead = true
				k.cancel()
			}
			k.mu.Unlock()
			return out, md, err
		}), middleware.After)
}

// writeItems is the number of items a DynamoDB request writes; 0 for a
// read.
func writeItems(params any) int {
	switch p := params.(type) {
	case *awsddb.PutItemInput, *awsddb.UpdateItemInput, *awsddb.DeleteItemInput:
		return 1
	case *awsddb.TransactWriteItemsInput:
		return len(p.TransactItems)
	case *awsddb.BatchWriteItemInput:
		n := 0
		for _, reqs := range p.RequestItems {
			n += len(reqs)
		}
		return n
	}
	return 0
}

// TestLegacyMessages: an upgrade. A job is booked while the queue refuses
// the new per-job message, and the queue holds the messages an older
// release sent for it — one per application, of the ACCEPTED and the
// WITHDRAWN ones too — sent raw through SQS. The new consumer handles each
// as its job's message: the PENDING applications are declined once, the
// others untouched, nothing is dead-lettered and nothing is left due.
func TestLegacyMessages(t *testing.T) {
	t.Parallel()
	const n = 30
	w := newWorld(t, config{})
	ctx := t.Context()
	job, parent := withdrawnJob(w, n)
	w.entryFaults.Fail(string(babysitter.DeclineMessage(job.job.ID).Body), -1, false)
	b, err := w.svc.BookNanny(ctx, parent, job.job.ID, job.apps[0].ID)
	if err != nil || b.DeclinesQueued != 0 {
		t.Fatalf("BookNanny with the per-job message refused: queued %d, %v; want 0, nil", b.DeclinesQueued, err)
	}
	job.job, job.accepted = b.Job, b.Application
	legacy := make([]babysitter.Message, n)
	for i, a := range job.apps {
		legacy[i] = legacyMessage(job.job.ID, a.ID)
	}
	if err := w.q.Send(ctx, legacy); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if q := w.queueLen(w.q); q != n {
		t.Fatalf("%d messages queued, want the %d legacy ones", q, n)
	}
	w.drain(4, nil)
	job.check(w)
	if due := w.due(); len(due) != 0 {
		t.Errorf("jobs still due after the drain: %v", due)
	}
	t.Logf("%d legacy messages; %d declines skipped as already done", n, w.store.skipped.Load())
}

// TestSendFailsThenNewProcess: "nothing left to the caller's retry". The
// queue fails (throttled on every attempt) while a parent books one job
// and cancels another: both calls report success, and nothing is queued.
// A third job was booked before, its message sent. Then the process dies.
// A new process starts with the queue back and no client does anything:
// its consumer (a Poller) and its sweeper (RunSweeper, SweepAfter tiny)
// run side by side until nothing is due and nothing PENDING; each
// application is declined exactly once, by one or the other.
func TestSendFailsThenNewProcess(t *testing.T) {
	t.Parallel()
	w := newWorld(t, config{})
	ctx := t.Context()
	parent := w.account(babysitter.RoleParent)
	type job struct {
		babysitter.Job
		apps []babysitter.Application
	}
	newJob := func(n int) job {
		j := w.job(parent)
		return job{j, w.apply(j.ID, w.accounts(babysitter.RoleNanny, n))}
	}
	sent, lost, cancelled := newJob(8), newJob(12), newJob(4)
	if b, err := w.svc.BookNanny(ctx, parent, sent.ID, sent.apps[0].ID); err != nil || b.DeclinesQueued != 1 {
		t.Fatalf("BookNanny: queued %d, %v; want 1, nil", b.DeclinesQueued, err)
	}

	// Throttled on each of the SDK's 5 attempts of both sends.
	w.faults.Fail("SendMessageBatch", 2*5, sqstest.Fault{Kind: sqstest.Throttle})
	b, err := w.svc.BookNanny(ctx, parent, lost.ID, lost.apps[0].ID)
	if err != nil || b.DeclinesQueued != 0 || b.Job.Status != babysitter.JobClosed {
		t.Fatalf("BookNanny with the queue failing: job %s, queued %d, %v; want CLOSED, 0, nil", b.Job.Status, b.DeclinesQueued, err)
	}
	c, err := w.svc.CancelJob(ctx, parent, cancelled.ID)
	if err != nil || c.Status != babysitter.JobCancelled {
		t.Fatalf("CancelJob with the queue failing: job %s, %v; want CANCELLED, nil", c.Status, err)
	}
	if f := w.faults.Injected("SendMessageBatch"); f != 10 {
		t.Errorf("%d faults injected into SendMessageBatch, want 10", f)
	}
	if q := w.queueLen(w.q); q != 1 {
		t.Fatalf("%d messages queued, want the first booking's 1", q)
	}

	// The process dies. A new one starts with the queue back.
	w = w.restart()
	// Not due for an hour yet: a sweep with SweepAfter 1h finds nothing.
	early := babysitter.NewDecliner(w.store, babysitter.DeclinerOptions{SweepAfter: time.Hour, Logger: quiet})
	if n, err := early.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("Sweep with SweepAfter 1h: swept %d jobs, %v; want 0, nil", n, err)
	}
	for _, j := range []job{lost, cancelled} {
		if _, st := w.statuses(j.ID); len(st[babysitter.ApplicationPending]) != len(j.apps)-len(st[babysitter.ApplicationAccepted]) {
			t.Fatalf("job %s after the early sweep: %d PENDING of %d", j.ID, len(st[babysitter.ApplicationPending]), len(j.apps))
		}
	}

	sweeper := babysitter.NewDecliner(w.store, babysitter.DeclinerOptions{SweepAfter: time.Millisecond, Logger: quiet})
	sweepCtx, stopSweeping := context.WithCancel(ctx)
	swept := make(chan error, 1)
	go func() { swept <- sweeper.RunSweeper(sweepCtx, 20*time.Millisecond) }()
	stopPolling := w.run(w.poller(4, nil))
	deadline := time.Now().Add(drainTimeout)
	for len(w.due()) > 0 || w.queueLen(w.q) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("still due after %v: %v", drainTimeout, w.due())
		}
		time.Sleep(50 * time.Millisecond)
	}
	stopSweeping()
	stopPolling()
	if err := <-swept; !errors.Is(err, context.Canceled) {
		t.Errorf("RunSweeper returned %v, want context.Canceled", err)
	}

	for _, j := range []job{sent, lost, cancelled} {
		st := w.checkInvariants(j.ID, len(j.apps))
		want := len(j.apps) - 1
		if j.ID == cancelled.ID {
			want = len(j.apps)
		}
		if len(st[babysitter.ApplicationDeclined]) != want {
			t.Errorf("job %s: %d DECLINED, want %d", j.ID, len(st[babysitter.ApplicationDeclined]), want)
		}
		w.checkDeclinedOnce(st)
	}
	w.checkDLQEmpty()
	t.Logf("SQS calls of the new process: %s; %d declines skipped as already done", w.calls, w.store.skipped.Load())
}
