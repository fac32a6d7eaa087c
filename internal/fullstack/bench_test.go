package fullstack_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/babysitter-go/babysitter"
)

// BenchmarkDeclineDrain measures the decline consumer end to end: 1,000
// decline messages on fauxqs for one CLOSED job's 1,000 PENDING
// applications in DynamoDB Local, consumed by a Poller running
// Decliner.HandleBatch with 1, 4 or 16 batches in flight. The clock runs
// from the poller's start until every message was handled successfully;
// the metric is messages per second.
//
//	go test -run x -bench DeclineDrain -benchtime 1x ./internal/fullstack/
func BenchmarkDeclineDrain(b *testing.B) {
	const declines = 1000
	// One table and queue for every sub-benchmark; each drains its own job.
	w := newWorld(b, config{visibility: 30 * time.Second})
	parent := w.account(babysitter.RoleParent)
	nannies := seedNannies(w, declines+1)
	// Warm up the servers (DynamoDB Local's JIT above all), so that the
	// first sub-benchmark is not the slow one for it.
	seedClosedJob(w, parent, nannies[:201])
	w.drain(4, nil)
	for _, concurrency := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("concurrency=%d", concurrency), func(b *testing.B) {
			var elapsed time.Duration
			b.StopTimer()
			for range b.N {
				job := seedClosedJob(w, parent, nannies)
				if n := w.queueLen(w.q); n != declines {
					b.Fatalf("%d messages queued, want %d", n, declines)
				}

				var handled atomic.Int64
				done := make(chan struct{})
				handler := func(ctx context.Context, msgs []babysitter.Message) []string {
					failed := w.decliner.HandleBatch(ctx, msgs)
					if handled.Add(int64(len(msgs)-len(failed))) == declines {
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
					b.Fatalf("handled %d of %d declines in 5 minutes", handled.Load(), declines)
				}
				b.StopTimer()
				elapsed += time.Since(start)
				stop()

				w.waitEmpty(w.q, drainTimeout)
				if _, st := w.statuses(job.ID); len(st[babysitter.ApplicationDeclined]) != declines || len(st[babysitter.ApplicationPending]) != 0 {
					b.Fatalf("after the drain: %d DECLINED, %d PENDING", len(st[babysitter.ApplicationDeclined]), len(st[babysitter.ApplicationPending]))
				}
			}
			b.ReportMetric(float64(declines*b.N)/elapsed.Seconds(), "msgs/s")
		})
	}
}

// seedNannies writes n VERIFIED nanny accounts straight to the store.
func seedNannies(w *world, n int) []string {
	w.t.Helper()
	names := make([]string, n)
	errs := make([]error, n)
	now := time.Now().UTC()
	parallel(n, 32, func(i int) {
		names[i] = uniqueName()
		errs[i] = w.store.CreateUser(w.t.Context(), babysitter.User{
			ID:        uuid.Must(uuid.NewV7()).String(),
			Username:  names[i],
			Email:     names[i] + "@example.com",
			Type:      babysitter.UserNanny,
			Status:    babysitter.StatusVerified,
			Profile:   babysitter.Profile{FirstName: "F", LastName: "L", DateOfBirth: babysitter.Date{Year: 1990, Month: 1, Day: 2}},
			CreatedOn: now,
			UpdatedOn: now,
			Version:   1,
		})
	})
	for _, err := range errs {
		if err != nil {
			w.t.Fatalf("seeding nannies: %v", err)
		}
	}
	return names
}

// seedClosedJob creates a job of parent with one application per nanny,
// written straight to the store, then books the first through the
// Service, which CLOSES the job and queues the other applications'
// declines: one SendMessageBatch per 10.
func seedClosedJob(w *world, parent babysitter.Actor, nannies []string) babysitter.Job {
	w.t.Helper()
	ctx := w.t.Context()
	job := w.job(parent)
	apps := make([]babysitter.Application, len(nannies))
	errs := make([]error, len(nannies))
	now := time.Now().UTC()
	parallel(len(nannies), 32, func(i int) {
		apps[i] = babysitter.Application{
			ID:            uuid.Must(uuid.NewV7()).String(),
			JobID:         job.ID,
			NannyUsername: nannies[i],
			Status:        babysitter.ApplicationPending,
			CreatedOn:     now,
			UpdatedOn:     now,
		}
		errs[i] = w.store.ApplyToJob(ctx, babysitter.Guard{}, apps[i])
	})
	for _, err := range errs {
		if err != nil {
			w.t.Fatalf("seeding applications: %v", err)
		}
	}
	b, err := w.svc.BookNanny(ctx, parent, job.ID, apps[0].ID)
	if err != nil || b.DeclinesQueued != len(nannies)-1 {
		w.t.Fatalf("BookNanny: queued %d, %v; want %d", b.DeclinesQueued, err, len(nannies)-1)
	}
	return b.Job
}
