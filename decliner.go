package babysitter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Decliner is the consumer of the decline queue and the sweeper of the
// declines left due: it needs nothing but the store's declines
// (DeclineStore), a clock and a logger, so a consumer process — the
// decline Lambda, a Poller — runs without a Service or a queue to send to.
// It is safe for concurrent use.
type Decliner struct {
	store      DeclineStore
	notifier   Notifier
	now        func() time.Time
	log        *slog.Logger
	sweepAfter time.Duration
}

// DeclinerOptions tune a Decliner; the zero value is ready for use.
type DeclinerOptions struct {
	// Now returns the current time; default time.Now.
	Now func() time.Time
	// Logger receives poison messages and failed declines; default
	// slog.Default().
	Logger *slog.Logger
	// SweepAfter is how long a job's declines may stay due before Sweep
	// declines them itself: longer than the queue normally takes, so that
	// the sweeper only finishes what a lost message left. Default 1 minute.
	SweepAfter time.Duration
	// Notifier tells people what the declines of a job mean for them:
	// the booked nanny and the parent, the declined applicants, the
	// applicants of a cancelled job (JobNotifications), once per job after
	// its declines. Nil tells nobody: notify/memory is the embedded choice
	// (it logs), notify/sns the production one.
	Notifier Notifier
}

// NewDecliner returns a Decliner on the store.
func NewDecliner(store DeclineStore, opts DeclinerOptions) *Decliner {
	d := &Decliner{store: store, notifier: opts.Notifier, now: opts.Now, log: opts.Logger, sweepAfter: opts.SweepAfter}
	if d.now == nil {
		d.now = time.Now
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	if d.sweepAfter <= 0 {
		d.sweepAfter = time.Minute
	}
	return d
}

// HandleBatch is the BatchHandler of the decline queue: for each job the
// messages name it declines the job's PENDING applications (PENDING →
// DECLINED, conditionally, so it never touches an ACCEPTED or WITHDRAWN
// application and a redelivered message is harmless) and returns the IDs
// of the messages that failed. Messages in the per-application format of
// earlier releases are handled as their job's message.
//
// The jobs of one batch are declined concurrently. A poison message — bad
// body, unknown type or version, unknown job, or a job that is still OPEN —
// is logged and reported failed, so the queue retries it up to its maximum
// receive count and then moves it to the dead-letter queue.
func (d *Decliner) HandleBatch(ctx context.Context, msgs []Message) (failedIDs []string) {
	byJob := map[string][]string{} // job → message IDs
	var jobs []string
	for _, m := range msgs {
		jobID, err := parseDecline(m)
		if err != nil {
			d.log.ErrorContext(ctx, "poison decline message", "messageId", m.ID, "receiveCount", m.ReceiveCount, "err", err)
			failedIDs = append(failedIDs, m.ID)
			continue
		}
		if _, ok := byJob[jobID]; !ok {
			jobs = append(jobs, jobID)
		}
		byJob[jobID] = append(byJob[jobID], m.ID)
	}
	failed := make([]bool, len(jobs))
	var wg sync.WaitGroup
	for i, jobID := range jobs {
		wg.Go(func() { failed[i] = d.decline(ctx, jobID) != nil })
	}
	wg.Wait()
	for i, jobID := range jobs {
		if failed[i] {
			failedIDs = append(failedIDs, byJob[jobID]...)
		}
	}
	return failedIDs
}

// decline declines the PENDING applications of one job, publishes what
// that means for each person (JobNotifications), then clears the job's
// outbox entry, and logs the outcome. The entry is cleared only after the
// notifications are published: if publishing fails, the message is
// redelivered (or the sweeper takes the job), declines nothing more and
// publishes the same notifications, with the same IDs, again.
func (d *Decliner) decline(ctx context.Context, jobID string) error {
	res, err := d.store.DeclinePending(ctx, jobID, d.now())
	if err != nil {
		level := slog.LevelWarn
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) {
			level = slog.LevelError // poison: retrying cannot help
		}
		d.log.Log(ctx, level, "declining applications failed", "jobId", jobID, "err", err)
		return err
	}
	d.log.DebugContext(ctx, "declined applications", "jobId", jobID, "declined", len(res.Declined), "skipped", len(res.Skipped))
	if d.notifier != nil {
		if ns := JobNotifications(res.Job, res.Applications); len(ns) > 0 {
			if err := d.notifier.Notify(ctx, ns); err != nil {
				d.log.WarnContext(ctx, "publishing the notifications of a job failed; they are published again on its next delivery or sweep",
					"jobId", jobID, "notifications", len(ns), "err", err)
				return fmt.Errorf("notifying the applicants of job %s: %w", jobID, err)
			}
		}
	}
	if err := d.store.ClearDeclines(ctx, jobID); err != nil {
		d.log.WarnContext(ctx, "clearing a job's outbox entry failed", "jobId", jobID, "err", err)
		return err
	}
	return nil
}

// sweepBatch is how many due jobs one Sweep takes at most.
const sweepBatch = 100

// Sweep declines the applications of the jobs whose declines have been
// due for longer than DeclinerOptions.SweepAfter — whose decline message
// was never sent, was lost, or ended in the dead-letter queue — and
// returns how many jobs it finished. Run it periodically (RunSweeper, or a
// scheduled Lambda); concurrent sweeps and consumers are harmless, as
// every decline is conditional.
func (d *Decliner) Sweep(ctx context.Context) (int, error) {
	due, err := d.store.DueDeclines(ctx, d.now().Add(-d.sweepAfter), sweepBatch)
	if err != nil {
		return 0, fmt.Errorf("sweep: %w", err)
	}
	var (
		done int
		errs []error
	)
	for _, jobID := range due {
		if err := d.decline(ctx, jobID); err != nil {
			errs = append(errs, err)
			continue
		}
		done++
	}
	if done > 0 {
		d.log.InfoContext(ctx, "swept declines whose message was lost", "jobs", done)
	}
	return done, errors.Join(errs...)
}

// RunSweeper runs Sweep every interval until ctx is done, logging its
// failures; it returns ctx's error.
func (d *Decliner) RunSweeper(ctx context.Context, interval time.Duration) error {
	return runEvery(ctx, interval, d.log, "sweeping due declines failed", d.Sweep)
}
