package babysitter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"runtime/debug"
	"slices"
	"sync"
	"time"
)

// Poller consumes a Source in a long-running service: it receives batches,
// hands each to a BatchHandler, deletes the messages the handler did not
// report as failed and leaves the failed ones to be redelivered. The Lambda
// SQS consumer runs the same BatchHandler on the batches Lambda delivers, so
// a handler behaves alike in both.
//
// Set the fields, then call Run. A Poller is not modified by Run, so one
// value may be run more than once (not concurrently with a change to its
// fields).
type Poller struct {
	// Source is the queue to consume. Required.
	Source Source
	// Handler handles each batch and returns the IDs of the messages that
	// failed. Required.
	Handler BatchHandler
	// Concurrency is the number of batches handled at once; default 4.
	Concurrency int
	// BatchSize is the most messages asked for per Receive, 1–10; default
	// 10 (SQS's maximum).
	BatchSize int
	// VisibilityTimeout is the Source's visibility timeout. When positive,
	// the Poller extends the visibility of a batch still being handled by
	// this much every VisibilityTimeout/2, so a slow handler keeps its
	// messages instead of racing a redelivery to another consumer. Zero
	// disables extension: a handler slower than the source's timeout then
	// sees its messages redelivered while it works.
	VisibilityTimeout time.Duration
	// Logger receives receive errors, handler panics and failed deletes;
	// default slog.Default(). Its lines carry the request, trace and span
	// IDs of their context (NewLogHandler).
	Logger *slog.Logger
}

// Poller defaults and limits.
const (
	defaultPollerConcurrency = 4
	defaultPollerBatchSize   = 10
	// The first wait after a failed Receive, doubled per consecutive
	// failure up to the cap: a brief outage recovers quickly, a long one
	// costs a request every few seconds per worker, not a hot loop.
	pollerBackoffMin = 100 * time.Millisecond
	pollerBackoffMax = 10 * time.Second
	// pollerMinExtendEvery keeps a tiny VisibilityTimeout from turning the
	// extension into a hot loop.
	pollerMinExtendEvery = 10 * time.Millisecond
)

// Run receives and handles batches until ctx is cancelled, then waits for
// the batches in flight to finish — handled and their successes deleted —
// and returns nil. It returns an error only for a misconfigured Poller, at
// once. Receive errors are logged and retried with capped exponential
// backoff; a handler panic is logged and its whole batch left to be
// redelivered.
//
// At most Concurrency batches are in flight: Run starts Concurrency
// workers, each receiving one batch and handling it before receiving the
// next. Nothing is fetched before a worker is free to handle it, because a
// fetched message's visibility timeout is already running; and the workers'
// long polls run in parallel, so one slow Receive does not starve the
// others.
func (p *Poller) Run(ctx context.Context) error {
	r, err := p.resolve()
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	for range r.concurrency {
		wg.Go(func() { r.work(ctx) })
	}
	wg.Wait()
	return nil
}

// pollerRun is a Poller's configuration with the defaults filled in, kept
// apart so that Run never writes to the caller's Poller.
type pollerRun struct {
	src         Source
	handler     BatchHandler
	concurrency int
	batchSize   int
	visibility  time.Duration
	log         *slog.Logger
}

// resolve validates p and fills in the defaults.
func (p *Poller) resolve() (*pollerRun, error) {
	var errs []error
	if p.Source == nil {
		errs = append(errs, errors.New("no Source"))
	}
	if p.Handler == nil {
		errs = append(errs, errors.New("no Handler"))
	}
	if p.Concurrency < 0 {
		errs = append(errs, fmt.Errorf("negative Concurrency %d", p.Concurrency))
	}
	if p.BatchSize < 0 || p.BatchSize > 10 {
		errs = append(errs, fmt.Errorf("BatchSize %d outside 1–10", p.BatchSize))
	}
	if p.VisibilityTimeout < 0 {
		errs = append(errs, fmt.Errorf("negative VisibilityTimeout %v", p.VisibilityTimeout))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("babysitter: misconfigured Poller: %w", err)
	}
	r := &pollerRun{
		src:         p.Source,
		handler:     p.Handler,
		concurrency: p.Concurrency,
		batchSize:   p.BatchSize,
		visibility:  p.VisibilityTimeout,
		log:         p.Logger,
	}
	if r.concurrency == 0 {
		r.concurrency = defaultPollerConcurrency
	}
	if r.batchSize == 0 {
		r.batchSize = defaultPollerBatchSize
	}
	r.log = withIDs(r.log)
	return r, nil
}

// work is one worker: receive a batch, process it, repeat until ctx is
// cancelled. A batch received is always processed to the end, even if ctx
// is cancelled meanwhile, so a graceful stop strands nothing in flight.
func (r *pollerRun) work(ctx context.Context) {
	var backoff time.Duration
	for ctx.Err() == nil {
		msgs, err := r.src.Receive(ctx, r.batchSize)
		if err != nil {
			if ctx.Err() != nil {
				return // stopping: the error is the cancellation
			}
			backoff = min(max(2*backoff, pollerBackoffMin), pollerBackoffMax)
			// Jitter, so workers failing together do not retry in lockstep.
			wait := backoff/2 + rand.N(backoff/2+1)
			r.log.ErrorContext(ctx, "poller: receive failed; retrying", "err", err, "retryIn", wait)
			if !pollerSleep(ctx, wait) {
				return
			}
			continue
		}
		backoff = 0
		if len(msgs) > 0 {
			r.process(ctx, msgs)
		}
	}
}

// process handles one batch and deletes its successes. It runs on a context
// that keeps ctx's values but not its cancellation: once received, a batch
// is finished and acknowledged even when Run is stopping, which is what
// makes the stop graceful; abandoning it would only delay its redelivery
// by a visibility timeout.
func (r *pollerRun) process(ctx context.Context, msgs []Message) {
	ctx = context.WithoutCancel(ctx)
	stop := r.keepHidden(ctx, msgs)
	failed := r.handle(ctx, msgs)
	// Stop extending before deleting, so no extension races the delete
	// and fails on a receipt handle the delete just retired.
	stop()
	r.deleteSucceeded(ctx, msgs, failed)
}

// handle calls the handler and recovers a panic, turning it into the
// failure of the whole batch: one bad message must not kill the worker,
// and the poller cannot know which messages the handler finished.
func (r *pollerRun) handle(ctx context.Context, msgs []Message) (failedIDs []string) {
	defer func() {
		if v := recover(); v != nil {
			r.log.ErrorContext(ctx, "poller: handler panicked; the batch will be redelivered",
				"panic", v, "messages", len(msgs), "stack", string(debug.Stack()))
			failedIDs = make([]string, len(msgs))
			for i, m := range msgs {
				failedIDs[i] = m.ID
			}
		}
	}()
	// A copy, so a handler that reorders or edits its slice cannot change
	// the receipt handles the poller deletes with.
	return r.handler(ctx, slices.Clone(msgs))
}

// deleteSucceeded deletes, in one call, every message of the batch whose ID
// the handler did not report as failed. A failed delete is only logged:
// those messages come back after their visibility timeout, which
// at-least-once delivery allows and handlers must tolerate anyway.
func (r *pollerRun) deleteSucceeded(ctx context.Context, msgs []Message, failedIDs []string) {
	failed := make(map[string]bool, len(failedIDs))
	for _, id := range failedIDs {
		failed[id] = true
	}
	ok := make([]Message, 0, len(msgs))
	for _, m := range msgs {
		if failed[m.ID] {
			delete(failed, m.ID)
			continue
		}
		ok = append(ok, m)
	}
	if len(failed) > 0 {
		// Most likely the handler reported some other ID (an application
		// ID rather than the message ID); say so rather than silently
		// deleting what it meant to retry.
		r.log.WarnContext(ctx, "poller: handler reported failed IDs not in its batch", "ids", slices.Sorted(maps.Keys(failed)))
	}
	if len(ok) == 0 {
		return
	}
	if err := r.src.Delete(ctx, ok); err != nil {
		r.log.ErrorContext(ctx, "poller: delete failed; the messages will be redelivered", "err", err, "messages", len(ok))
	}
}

// keepHidden extends the visibility of msgs every half visibility timeout
// until the returned stop is called; stop returns once no extension is in
// progress. With no VisibilityTimeout it does nothing.
func (r *pollerRun) keepHidden(ctx context.Context, msgs []Message) (stop func()) {
	if r.visibility <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		// Half the timeout leaves the other half for a slow
		// ChangeVisibility call to land before the message reappears.
		t := time.NewTicker(max(r.visibility/2, pollerMinExtendEvery))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			for _, m := range msgs {
				if err := r.src.ChangeVisibility(ctx, m, r.visibility); err != nil {
					r.log.WarnContext(ctx, "poller: extending visibility failed; the message may be redelivered while handled",
						"err", err, "id", m.ID)
				}
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// pollerSleep waits for d and reports whether ctx is still live.
func pollerSleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
