package babysitter

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Decliner is the consumer of the decline queue: it needs nothing but the
// store's declines (DeclineStore), a clock and a logger, so a consumer
// process — the decline Lambda, a Poller — runs without a Service or a
// queue to send to. It is safe for concurrent use.
type Decliner struct {
	store DeclineStore
	now   func() time.Time
	log   *slog.Logger
}

// DeclinerOptions tune a Decliner; the zero value is ready for use.
type DeclinerOptions struct {
	// Now returns the current time; default time.Now.
	Now func() time.Time
	// Logger receives poison messages and failed declines; default
	// slog.Default().
	Logger *slog.Logger
}

// NewDecliner returns a Decliner on the store.
func NewDecliner(store DeclineStore, opts DeclinerOptions) *Decliner {
	d := &Decliner{store: store, now: opts.Now, log: opts.Logger}
	if d.now == nil {
		d.now = time.Now
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	return d
}

// HandleBatch is the BatchHandler of the decline queue: it declines the
// applications the messages name (PENDING → DECLINED, conditionally, so it
// never touches an ACCEPTED or WITHDRAWN application and a redelivered
// message is harmless) and returns the IDs of the messages that failed.
//
// Messages of one job are declined together. A poison message — bad body,
// unknown type or version, unknown job, or a job that is still OPEN — is
// logged and reported failed, so the queue retries it up to its maximum
// receive count and then moves it to the dead-letter queue.
func (d *Decliner) HandleBatch(ctx context.Context, msgs []Message) (failedIDs []string) {
	byJob := map[string][]Message{}
	var jobs []string
	for _, m := range msgs {
		b, err := parseDecline(m)
		if err != nil {
			d.log.ErrorContext(ctx, "poison decline message", "messageId", m.ID, "receiveCount", m.ReceiveCount, "err", err)
			failedIDs = append(failedIDs, m.ID)
			continue
		}
		if _, ok := byJob[b.JobID]; !ok {
			jobs = append(jobs, b.JobID)
		}
		m.Body = []byte(b.ApplicationID) // parsed once; only the ID is needed below
		byJob[b.JobID] = append(byJob[b.JobID], m)
	}
	for _, jobID := range jobs {
		group := byJob[jobID]
		ids := make([]string, len(group))
		for i, m := range group {
			ids[i] = string(m.Body)
		}
		res, err := d.store.DeclineApplications(ctx, jobID, ids, d.now())
		if err != nil {
			level := slog.LevelWarn
			if errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) {
				level = slog.LevelError // poison: retrying cannot help; it ends in the DLQ
			}
			d.log.Log(ctx, level, "declining applications failed", "jobId", jobID, "applications", len(ids), "err", err)
			for _, m := range group {
				failedIDs = append(failedIDs, m.ID)
			}
			continue
		}
		d.log.DebugContext(ctx, "declined applications", "jobId", jobID, "declined", len(res.Declined), "skipped", len(res.Skipped))
	}
	return failedIDs
}
