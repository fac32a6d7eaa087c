package babysitter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Eraser deletes the objects of deleted accounts: DeleteUser's write
// records an account's Erasure — the keys of every object it had — and
// the Service deletes them right after (Erase). Should that fail, or the
// process die first, the Erasure stays recorded and Sweep, run
// periodically, deletes them. It needs only the store's Erasures and the
// object storage, so a scheduled function runs it without a Service. It is
// safe for concurrent use.
type Eraser struct {
	store      ErasureStore
	blobs      Blobs
	now        func() time.Time
	log        *slog.Logger
	sweepAfter time.Duration
	tel        *telemetry
}

// EraserOptions tune an Eraser; the zero value is ready for use.
type EraserOptions struct {
	// Now returns the current time; default time.Now.
	Now func() time.Time
	// Logger receives failed deletions; default slog.Default(). Its lines
	// carry the request, trace and span IDs of their context
	// (NewLogHandler).
	Logger *slog.Logger
	// SweepAfter is how long an Erasure may stay due before Sweep takes
	// it: longer than the deletion right after DeleteUser takes, so that
	// the sweeper only finishes what that left. Default 1 minute.
	SweepAfter time.Duration

	// TracerProvider, when set, makes a span per Sweep
	// ("SweepErasures"); nil makes none, as for the Service. The object
	// storage's own calls are traced by its client (telemetry/awsotel).
	TracerProvider trace.TracerProvider
	// MeterProvider, when set, counts a failed Sweep among
	// babysitter.operation.errors; nil records none.
	MeterProvider metric.MeterProvider
}

// NewEraser returns an Eraser deleting from blobs the objects the store's
// Erasures name.
func NewEraser(store ErasureStore, blobs Blobs, opts EraserOptions) *Eraser {
	e := &Eraser{
		store: store, blobs: blobs, now: opts.Now, log: withIDs(opts.Logger), sweepAfter: opts.SweepAfter,
		tel: newTelemetry(opts.TracerProvider, opts.MeterProvider, nil),
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.sweepAfter <= 0 {
		e.sweepAfter = time.Minute
	}
	return e
}

// Erase deletes the objects of one Erasure (Blobs.Delete is idempotent)
// and, once the deletion is final (its Due has passed: no upload URL of
// the account is valid any more), clears the Erasure. Before that it
// leaves the Erasure for Sweep to delete again after Due.
func (e *Eraser) Erase(ctx context.Context, er Erasure) error {
	if len(er.Keys) > 0 {
		if err := e.blobs.Delete(ctx, er.Keys); err != nil {
			return fmt.Errorf("erasing the %d objects of deleted user %s: %w", len(er.Keys), er.Username, err)
		}
	}
	if e.now().Before(er.Due) {
		return nil
	}
	if err := e.store.ClearErasure(ctx, er.Username); err != nil {
		return fmt.Errorf("clearing the erasure of deleted user %s: %w", er.Username, err)
	}
	return nil
}

// sweepErasures is how many Erasures one Sweep takes at most.
const sweepErasures = 100

// Sweep erases the objects of the deleted accounts whose Erasures have
// been due for longer than EraserOptions.SweepAfter, and returns how many
// it cleared. Run it periodically (RunSweeper, or a scheduled Lambda);
// concurrent sweeps are harmless, as deleting is idempotent.
func (e *Eraser) Sweep(ctx context.Context) (done int, err error) {
	ctx, end := e.tel.startInternal(ctx, opSweepErasures)
	defer func() { end(err) }()
	due, err := e.store.DueErasures(ctx, e.now().Add(-e.sweepAfter), sweepErasures)
	if err != nil {
		return 0, fmt.Errorf("sweep erasures: %w", err)
	}
	var errs []error
	for _, er := range due {
		if err := e.Erase(ctx, er); err != nil {
			errs = append(errs, err)
			continue
		}
		done++
	}
	if done > 0 {
		e.log.InfoContext(ctx, "swept the objects of deleted accounts", "accounts", done)
	}
	return done, errors.Join(errs...)
}

// RunSweeper runs Sweep every interval until ctx is done, logging its
// failures; it returns ctx's error.
func (e *Eraser) RunSweeper(ctx context.Context, interval time.Duration) error {
	return runEvery(ctx, interval, e.log, "sweeping erasures failed", e.Sweep)
}

// runEvery runs sweep now and then every interval until ctx is done,
// logging its failures as msg; it returns ctx's error.
func runEvery(ctx context.Context, interval time.Duration, log *slog.Logger, msg string, sweep func(context.Context) (int, error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := sweep(ctx); err != nil && ctx.Err() == nil {
			log.WarnContext(ctx, msg, "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// erase deletes the objects of an account DeleteUser just deleted. A
// failure is logged, not returned: the deletion committed, and its
// recorded Erasure lets an Eraser's Sweep finish.
func (s *Service) erase(ctx context.Context, er Erasure) {
	if len(er.Keys) == 0 {
		return
	}
	if s.eraser == nil {
		s.log.WarnContext(ctx, "a deleted account has objects but the Service has no Blobs; an Eraser must delete them",
			"username", er.Username, "objects", len(er.Keys))
		return
	}
	if err := s.eraser.Erase(ctx, er); err != nil {
		s.log.WarnContext(ctx, "the objects of a deleted account were not deleted; the eraser's sweep will", "username", er.Username, "err", err)
	}
}
