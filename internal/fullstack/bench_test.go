package fullstack_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/babysitter-go/babysitter"
)

// BenchmarkDeclineDrain measures the decline consumer end to end: CLOSED
// jobs with 1,000 PENDING applications in all in DynamoDB Local, one
// decline message per job on fauxqs, consumed by a Poller running
// Decliner.HandleBatch with 1, 4 or 16 batches in flight. Two shapes: one
// job of 1,000 applications (one message: one DeclinePending does it all)
// and 20 jobs of 50 (20 messages, handled side by side). The clock runs
// from the poller's start until every message was handled successfully;
// the metric is declines per second.
//
//	go test -run x -bench DeclineDrain -benchtime 1x ./internal/fullstack/
func BenchmarkDeclineDrain(b *testing.B) {
	const declines = 1000
	// One table and queue for every sub-benchmark; each drains its own jobs.
	w := newWorld(b, config{visibility: 30 * time.Second})
	parent := w.account(babysitter.RoleParent)
	nannies := seedNannies(w, declines+1)
	// Warm up the servers (DynamoDB Local's JIT above all), so that the
	// first sub-benchmark is not the slow one for it.
	seedClosedJobs(w, parent, nannies[:201], 1)
	w.drain(4, nil)
	for _, shape := range []struct{ jobs, apps int }{{1, declines}, {20, declines / 20}} {
		for _, concurrency := range []int{1, 4, 16} {
			if shape.jobs == 1 && concurrency > 1 {
				continue // one message: nothing to run side by side
			}
			b.Run(fmt.Sprintf("jobs=%d/apps=%d/concurrency=%d", shape.jobs, shape.apps, concurrency), func(b *testing.B) {
				w := w.with(b)
				var elapsed time.Duration
				b.StopTimer()
				for range b.N {
					jobs := seedClosedJobs(w, parent, nannies[:shape.apps+1], shape.jobs)
					if n := w.queueLen(w.q); n != shape.jobs {
						b.Fatalf("%d messages queued, want %d", n, shape.jobs)
					}

					var handled atomic.Int64
					done := make(chan struct{})
					handler := func(ctx context.Context, msgs []babysitter.Message) []string {
						failed := w.decliner.HandleBatch(ctx, msgs)
						if handled.Add(int64(len(msgs)-len(failed))) == int64(shape.jobs) {
							close(done)
						}
						return failed
					}
					start := time.Now()
					b.StartTimer()
					stop := w.run(w.poller(concurrency, handler))
					select {
					case <-done:
					case <-time.After(5 * time.Minute):
						b.Fatalf("handled %d of %d messages in 5 minutes", handled.Load(), shape.jobs)
					}
					b.StopTimer()
					elapsed += time.Since(start)
					stop()

					w.waitEmpty(w.q, drainTimeout)
					for _, job := range jobs {
						if _, st := w.statuses(job.ID); len(st[babysitter.ApplicationDeclined]) != shape.apps || len(st[babysitter.ApplicationPending]) != 0 {
							b.Fatalf("after the drain: %d DECLINED, %d PENDING", len(st[babysitter.ApplicationDeclined]), len(st[babysitter.ApplicationPending]))
						}
					}
				}
				b.ReportMetric(float64(shape.jobs*shape.apps*b.N)/elapsed.Seconds(), "declines/s")
			})
		}
	}
}

// seedClosedJobs seeds k jobs of parent with one application per nanny
// and books the first of each through the Service, which CLOSES the job
// and sends its one decline message.
func seedClosedJobs(w *world, parent babysitter.Actor, nannies []string, k int) []babysitter.Job {
	w.t.Helper()
	jobs := make([]babysitter.Job, k)
	for i := range jobs {
		job, apps := seedJob(w, parent, nannies)
		b, err := w.svc.BookNanny(w.t.Context(), parent, job.ID, apps[0].ID)
		if err != nil || b.DeclinesQueued != 1 {
			w.t.Fatalf("BookNanny: queued %d, %v; want 1, nil", b.DeclinesQueued, err)
		}
		jobs[i] = b.Job
	}
	return jobs
}
