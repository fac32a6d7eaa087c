package babysitter_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/internal/testlog"
	"github.com/babysitter-go/babysitter/queue/memory"
)

// discard is the logger for tests that do not look at the logs.
var discard = slog.New(slog.DiscardHandler)

// deliveries counts handled deliveries per message body.
type deliveries struct {
	mu sync.Mutex
	n  map[string]int
}

func (d *deliveries) add(m babysitter.Message) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n == nil {
		d.n = map[string]int{}
	}
	d.n[string(m.Body)]++
	return d.n[string(m.Body)]
}

func (d *deliveries) get(body string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n[body]
}

func (d *deliveries) distinct() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.n)
}

// startPoller runs p in the background and returns a stop function that
// cancels Run and returns its error; stop is also registered as cleanup so a
// failing test leaks no goroutine.
func startPoller(t *testing.T, p *babysitter.Poller) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				err = errors.New("Run did not return within 10s of cancellation")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func drained(q *memory.Queue) func() bool {
	return func() bool { v, f := q.Len(); return v == 0 && f == 0 }
}

func send(t *testing.T, q babysitter.Queue, bodies ...string) {
	t.Helper()
	msgs := make([]babysitter.Message, len(bodies))
	for i, b := range bodies {
		msgs[i] = babysitter.Message{Body: []byte(b)}
	}
	if err := q.Send(context.Background(), msgs); err != nil {
		t.Fatalf("Send: %v", err)
	}
}

// TestPollerDrains: every message is handled and the queue ends empty, with
// never more batches in flight than Concurrency nor more messages per batch
// than BatchSize, and no goroutine left behind after Run.
func TestPollerDrains(t *testing.T) {
	for _, conc := range []int{1, 8} {
		t.Run(fmt.Sprintf("concurrency=%d", conc), func(t *testing.T) {
			const total = 500
			q := memory.New(memory.Options{WaitTime: 50 * time.Millisecond})
			bodies := make([]string, total)
			for i := range bodies {
				bodies[i] = strconv.Itoa(i)
			}
			send(t, q, bodies...)

			goroutines := runtime.NumGoroutine()
			var got deliveries
			var inFlight, peak, tooBig atomic.Int32
			stop := startPoller(t, &babysitter.Poller{
				Source:      q,
				Concurrency: conc,
				Logger:      discard,
				Handler: func(ctx context.Context, msgs []babysitter.Message) []string {
					n := inFlight.Add(1)
					defer inFlight.Add(-1)
					for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
					}
					if len(msgs) > 10 {
						tooBig.Add(1)
					}
					time.Sleep(time.Millisecond) // let batches overlap
					for _, m := range msgs {
						got.add(m)
					}
					return nil
				},
			})
			waitFor(t, 30*time.Second, "every message handled and deleted", func() bool {
				return got.distinct() == total && drained(q)()
			})
			if err := stop(); err != nil {
				t.Fatalf("Run = %v, want nil", err)
			}
			if p := peak.Load(); p > int32(conc) {
				t.Errorf("%d batches in flight at once, Concurrency %d", p, conc)
			}
			if n := tooBig.Load(); n > 0 {
				t.Errorf("%d batches larger than 10", n)
			}
			if v, f := q.Len(); v != 0 || f != 0 {
				t.Errorf("after stop Len = %d visible, %d in flight; want 0, 0", v, f)
			}
			// Every worker and extender goroutine is gone once Run returns.
			waitFor(t, 5*time.Second, "the poller's goroutines to exit", func() bool {
				return runtime.NumGoroutine() <= goroutines
			})
		})
	}
}

// TestPollerPartialFailure: only the IDs the handler reports as failed are
// redelivered; the rest of their batches are deleted.
func TestPollerPartialFailure(t *testing.T) {
	const vis = 300 * time.Millisecond
	q := memory.New(memory.Options{VisibilityTimeout: vis, WaitTime: 50 * time.Millisecond})
	var bodies []string
	for i := range 30 {
		bodies = append(bodies, strconv.Itoa(i))
	}
	send(t, q, bodies...)
	failOnce := func(body string) bool { n, _ := strconv.Atoi(body); return n%5 == 0 }

	var got deliveries
	startPoller(t, &babysitter.Poller{
		Source:            q,
		Concurrency:       2,
		VisibilityTimeout: vis, // so a slow (race-enabled) run cannot redeliver the successes
		Logger:            discard,
		Handler: func(ctx context.Context, msgs []babysitter.Message) (failed []string) {
			for _, m := range msgs {
				if got.add(m) == 1 && failOnce(string(m.Body)) {
					failed = append(failed, m.ID)
				}
			}
			return failed
		},
	})
	waitFor(t, 20*time.Second, "the queue to drain", func() bool {
		return got.distinct() == len(bodies) && drained(q)()
	})
	for _, b := range bodies {
		want := 1
		if failOnce(b) {
			want = 2
		}
		if n := got.get(b); n != want {
			t.Errorf("message %s handled %d times, want %d", b, n, want)
		}
	}
}

// TestPollerGracefulStop: cancelling Run while a handler runs lets the
// handler finish on a live context and its messages be deleted before Run
// returns; no new batch starts after the cancellation.
func TestPollerGracefulStop(t *testing.T) {
	q := memory.New(memory.Options{WaitTime: 50 * time.Millisecond})
	started := make(chan struct{})
	release := make(chan struct{})
	var handled atomic.Int32
	var ctxErr atomic.Value
	p := &babysitter.Poller{
		Source:      q,
		Concurrency: 2,
		Logger:      discard,
		Handler: func(ctx context.Context, msgs []babysitter.Message) []string {
			if handled.Add(1) == 1 {
				close(started)
				<-release
				ctxErr.Store(fmt.Sprint(ctx.Err()))
			}
			return nil
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()

	send(t, q, "slow")
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("handler not called")
	}
	cancel()
	send(t, q, "after-stop") // must stay in the queue
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) while a handler was still running", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after the handler finished")
	}
	if e := ctxErr.Load(); e != "<nil>" {
		t.Errorf("handler's context error after Run was cancelled = %v, want nil", e)
	}
	// The slow message was handled and deleted. The one sent after the stop
	// either waits in the queue or — when a worker's Receive had begun just
	// before the cancel, which SQS allows too — was handled and deleted:
	// never stranded in flight.
	v, f := q.Len()
	if n := int(handled.Load()); f != 0 || n+v != 2 || n < 1 {
		t.Errorf("after stop: %d batches handled, Len = %d visible, %d in flight; want 1 handled + 1 visible (or 2 handled), 0 in flight", n, v, f)
	}
}

// TestPollerExtendsVisibility: a handler slower than the visibility timeout
// keeps its message when the Poller knows the timeout. Without extension a
// second worker receives the message meanwhile — and since each delivery
// outlives its receipt handle, it is never deleted — which shows the test
// can fail.
func TestPollerExtendsVisibility(t *testing.T) {
	const vis, slow = 200 * time.Millisecond, 600 * time.Millisecond
	run := func(t *testing.T, extend time.Duration) (*memory.Queue, *deliveries) {
		q := memory.New(memory.Options{VisibilityTimeout: vis, WaitTime: 50 * time.Millisecond})
		got := &deliveries{}
		startPoller(t, &babysitter.Poller{
			Source:            q,
			Concurrency:       2,
			VisibilityTimeout: extend,
			Logger:            discard,
			Handler: func(ctx context.Context, msgs []babysitter.Message) []string {
				for _, m := range msgs {
					got.add(m)
				}
				time.Sleep(slow)
				return nil
			},
		})
		send(t, q, "slow")
		return q, got
	}
	t.Run("extended", func(t *testing.T) {
		t.Parallel()
		q, got := run(t, vis)
		waitFor(t, 10*time.Second, "the queue to drain", drained(q))
		if n := got.get("slow"); n != 1 {
			t.Errorf("message handled %d times, want 1", n)
		}
	})
	t.Run("not extended", func(t *testing.T) {
		t.Parallel()
		_, got := run(t, 0)
		waitFor(t, 10*time.Second, "a redelivery to the other worker", func() bool { return got.get("slow") > 1 })
	})
}

// TestPollerSurvivesPanic: a panicking handler is logged, its batch is
// redelivered, and the poller (here a single worker) keeps going.
func TestPollerSurvivesPanic(t *testing.T) {
	q := memory.New(memory.Options{VisibilityTimeout: 200 * time.Millisecond, WaitTime: 50 * time.Millisecond})
	var logs testlog.Buffer
	var got deliveries
	startPoller(t, &babysitter.Poller{
		Source:      q,
		Concurrency: 1,
		Logger:      slog.New(slog.NewTextHandler(&logs, nil)),
		Handler: func(ctx context.Context, msgs []babysitter.Message) []string {
			for _, m := range msgs {
				if got.add(m) == 1 {
					panic("boom")
				}
			}
			return nil
		},
	})
	send(t, q, "m")
	waitFor(t, 10*time.Second, "the message to be handled after the panic", func() bool {
		return got.get("m") == 2 && drained(q)()
	})
	if l := logs.String(); !strings.Contains(l, "panicked") || !strings.Contains(l, "boom") {
		t.Errorf("the panic was not logged; logs:\n%s", l)
	}
}

// TestPollerDeadLetter: a message that always fails is delivered
// MaxReceiveCount times, then moves to the dead-letter queue, while the
// other messages are handled once.
func TestPollerDeadLetter(t *testing.T) {
	const maxReceive = 3
	dlq := memory.New(memory.Options{WaitTime: -1})
	q := memory.New(memory.Options{
		VisibilityTimeout: 100 * time.Millisecond,
		WaitTime:          50 * time.Millisecond,
		MaxReceiveCount:   maxReceive,
		DeadLetter:        dlq,
	})
	var got deliveries
	startPoller(t, &babysitter.Poller{
		Source: q,
		Logger: discard,
		Handler: func(ctx context.Context, msgs []babysitter.Message) (failed []string) {
			for _, m := range msgs {
				got.add(m)
				if string(m.Body) == "poison" {
					failed = append(failed, m.ID)
				}
			}
			return failed
		},
	})
	send(t, q, "ok", "poison", "fine")
	waitFor(t, 10*time.Second, "the poison message in the dead-letter queue", func() bool {
		v, f := dlq.Len()
		return v == 1 && f == 0 && drained(q)()
	})
	if n := got.get("poison"); n != maxReceive {
		t.Errorf("poison message handled %d times, want %d", n, maxReceive)
	}
	for _, b := range []string{"ok", "fine"} {
		if n := got.get(b); n != 1 {
			t.Errorf("message %q handled %d times, want 1", b, n)
		}
	}
	dead, err := dlq.Receive(context.Background(), 10)
	if err != nil || len(dead) != 1 || string(dead[0].Body) != "poison" {
		t.Errorf("dead-letter queue holds %v (err %v), want the poison message", dead, err)
	}
}

// flakySource fails its first failures Receives.
type flakySource struct {
	babysitter.Source
	failures atomic.Int32
}

func (f *flakySource) Receive(ctx context.Context, n int) ([]babysitter.Message, error) {
	if f.failures.Add(-1) >= 0 {
		return nil, errors.New("service unavailable")
	}
	return f.Source.Receive(ctx, n)
}

// TestPollerRetriesReceiveErrors: receive errors are logged and retried;
// the poller recovers when the source does.
func TestPollerRetriesReceiveErrors(t *testing.T) {
	q := memory.New(memory.Options{WaitTime: 50 * time.Millisecond})
	src := &flakySource{Source: q}
	src.failures.Store(3)
	var logs testlog.Buffer
	var got deliveries
	startPoller(t, &babysitter.Poller{
		Source:      src,
		Concurrency: 1,
		Logger:      slog.New(slog.NewTextHandler(&logs, nil)),
		Handler: func(ctx context.Context, msgs []babysitter.Message) []string {
			for _, m := range msgs {
				got.add(m)
			}
			return nil
		},
	})
	send(t, q, "m")
	waitFor(t, 10*time.Second, "the message to be handled", func() bool { return got.get("m") == 1 && drained(q)() })
	if n := strings.Count(logs.String(), "service unavailable"); n != 3 {
		t.Errorf("%d receive errors logged, want 3; logs:\n%s", n, logs.String())
	}
}

// TestPollerMisconfigured: Run refuses a bad configuration at once.
func TestPollerMisconfigured(t *testing.T) {
	q := memory.New(memory.Options{})
	h := func(context.Context, []babysitter.Message) []string { return nil }
	for name, p := range map[string]babysitter.Poller{
		"no source":            {Handler: h},
		"no handler":           {Source: q},
		"batch 11":             {Source: q, Handler: h, BatchSize: 11},
		"negative batch":       {Source: q, Handler: h, BatchSize: -1},
		"negative concurrency": {Source: q, Handler: h, Concurrency: -1},
		"negative visibility":  {Source: q, Handler: h, VisibilityTimeout: -time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := p.Run(ctx); err == nil {
				t.Error("Run = nil, want a configuration error")
			}
			if ctx.Err() != nil {
				t.Error("Run ran until its context ended instead of failing at once")
			}
		})
	}
}
