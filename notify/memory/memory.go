// Package memory is the in-memory babysitter.Notifier, the embedded
// default: it records every notification it is given and logs each one,
// so a development server shows in its log who would be told what.
//
// It passes notify/notifytest.
package memory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/babysitter-go/babysitter"
)

// ErrInjected is the error of a call failed by FailNext.
var ErrInjected = errors.New("notify/memory: injected failure")

// Options configure a Notifier; the zero value is ready.
type Options struct {
	// Logger receives one Info line per notification; default
	// slog.Default().
	Logger *slog.Logger
}

// Notifier records notifications in memory. It is safe for concurrent
// use.
type Notifier struct {
	log *slog.Logger

	mu        sync.Mutex
	published []babysitter.Notification
	failNext  int
}

var _ babysitter.Notifier = (*Notifier)(nil)

// New returns a Notifier that has published nothing.
func New(opts Options) *Notifier {
	n := &Notifier{log: opts.Logger}
	if n.log == nil {
		n.log = slog.Default()
	}
	return n
}

// Notify implements babysitter.Notifier: it checks every notification,
// then records and logs them all, or fails as a whole (bad input, a
// cancelled context, FailNext).
func (n *Notifier) Notify(ctx context.Context, ns []babysitter.Notification) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("notify/memory: %w", err)
	}
	if err := babysitter.CheckNotifications(ns); err != nil {
		return fmt.Errorf("notify/memory: %w", err)
	}
	if len(ns) == 0 {
		return nil
	}
	n.mu.Lock()
	if n.failNext > 0 {
		n.failNext--
		n.mu.Unlock()
		return fmt.Errorf("notify/memory: %d notifications: %w", len(ns), ErrInjected)
	}
	n.published = append(n.published, ns...)
	n.mu.Unlock()
	for _, x := range ns {
		n.log.InfoContext(ctx, "notification", "id", x.ID, "type", x.Type, "recipient", x.Recipient, "jobId", x.JobID, "applicationId", x.ApplicationID, "at", x.At)
	}
	return nil
}

// Published returns every notification published so far, in order,
// repeats included.
func (n *Notifier) Published() []babysitter.Notification {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.published)
}

// FailNext makes the next k calls of Notify with notifications to publish
// fail with ErrInjected, publishing nothing: a test's way to make a
// consumer's publication fail and see it redelivered.
func (n *Notifier) FailNext(k int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.failNext = k
}
