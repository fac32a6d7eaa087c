package babysitter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
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
	maxReceive int
	tel        *telemetry
}

// DeclinerOptions tune a Decliner; the zero value is ready for use.
type DeclinerOptions struct {
	// Now returns the current time; default time.Now.
	Now func() time.Time
	// Logger receives poison messages and failed declines; default
	// slog.Default(). Its lines carry the request, trace and span IDs of
	// their context (NewLogHandler).
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
	// MaxReceiveCount is the maxReceiveCount of the decline queue's
	// redrive policy, if the consumer knows it: a message that fails at
	// that delivery goes to the dead-letter queue next, which the Decliner
	// then logs and counts (babysitter.decline.dead_lettered). Zero: not
	// known, neither logged nor counted.
	MaxReceiveCount int

	// TracerProvider, when set, makes a span per job declined
	// ("DeclineJob", linked to the call that sent each of its messages)
	// and per Sweep ("Sweep"); nil makes none, as for the Service.
	TracerProvider trace.TracerProvider
	// MeterProvider, when set, receives the declines applied and skipped,
	// the decline lag, the messages dead-lettered and the errors by kind;
	// nil records none.
	MeterProvider metric.MeterProvider
	// Propagator reads the trace context Options.Propagator wrote into a
	// message; default propagation.TraceContext{}.
	Propagator propagation.TextMapPropagator
}

// NewDecliner returns a Decliner on the store.
func NewDecliner(store DeclineStore, opts DeclinerOptions) *Decliner {
	d := &Decliner{
		store: store, notifier: opts.Notifier, now: opts.Now, log: withIDs(opts.Logger), sweepAfter: opts.SweepAfter,
		maxReceive: max(opts.MaxReceiveCount, 0),
		tel:        newTelemetry(opts.TracerProvider, opts.MeterProvider, opts.Propagator),
	}
	if d.now == nil {
		d.now = time.Now
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
	byJob := map[string][]Message{}
	var jobs []string
	for _, m := range msgs {
		jobID, err := parseDecline(m)
		if err != nil {
			d.log.ErrorContext(ctx, "poison decline message", "messageId", m.ID, "receiveCount", m.ReceiveCount, "err", err)
			d.tel.countError(ctx, opDeclineJob, errorTypeInvalidInput)
			d.failed(ctx, m, errorTypeInvalidInput)
			failedIDs = append(failedIDs, m.ID)
			continue
		}
		if _, ok := byJob[jobID]; !ok {
			jobs = append(jobs, jobID)
		}
		byJob[jobID] = append(byJob[jobID], m)
	}
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, jobID := range jobs {
		wg.Go(func() { errs[i] = d.decline(ctx, jobID, byJob[jobID]) })
	}
	wg.Wait()
	for i, jobID := range jobs {
		if errs[i] == nil {
			continue
		}
		for _, m := range byJob[jobID] {
			d.failed(ctx, m, ErrorType(errs[i]))
			failedIDs = append(failedIDs, m.ID)
		}
	}
	return failedIDs
}

// failed notes a message reported failed: at its last delivery before the
// dead-letter queue (DeclinerOptions.MaxReceiveCount), it logs and counts
// it as dead-lettered, with the error.type of its failure.
func (d *Decliner) failed(ctx context.Context, m Message, errorType string) {
	if d.maxReceive == 0 || m.ReceiveCount < d.maxReceive {
		return
	}
	d.log.ErrorContext(ctx, "decline message failed at its last delivery; the queue moves it to the dead-letter queue",
		"messageId", m.ID, "receiveCount", m.ReceiveCount, "errorType", errorType)
	if d.tel.metered {
		d.tel.deadLettered.Add(ctx, 1, metric.WithAttributes(semconv.ErrorTypeKey.String(errorType)))
	}
}

// decline declines the PENDING applications of one job, brought by msgs
// (nil from a sweep), publishes what that means for each person
// (JobNotifications), then clears the job's outbox entry, and logs the
// outcome. The entry is cleared only after the notifications are
// published: if publishing fails, the message is redelivered (or the
// sweeper takes the job), declines nothing more and publishes the same
// notifications, with the same IDs, again.
func (d *Decliner) decline(ctx context.Context, jobID string, msgs []Message) (err error) {
	ctx, end := d.tel.startDecline(ctx, jobID, msgs)
	defer func() { end(err) }()
	res, err := d.store.DeclinePending(ctx, jobID, d.now())
	if err != nil {
		level := slog.LevelWarn
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) {
			level = slog.LevelError // poison: retrying cannot help
		}
		d.log.Log(ctx, level, "declining applications failed", "jobId", jobID, "err", err)
		return err
	}
	d.tel.declined(ctx, res, msgs, d.now())
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
func (d *Decliner) Sweep(ctx context.Context) (done int, err error) {
	ctx, end := d.tel.startInternal(ctx, opSweep)
	defer func() { end(err) }()
	due, err := d.store.DueDeclines(ctx, d.now().Add(-d.sweepAfter), sweepBatch)
	if err != nil {
		return 0, fmt.Errorf("sweep: %w", err)
	}
	var errs []error
	for _, jobID := range due {
		if err := d.decline(ctx, jobID, nil); err != nil {
			errs = append(errs, err)
			continue
		}
		done++
	}
	if span := d.tel.recording(ctx); span != nil {
		span.SetAttributes(attrSweepDue.Int(len(due)), attrSweepDone.Int(done))
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
