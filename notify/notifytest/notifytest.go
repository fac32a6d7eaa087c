// Package notifytest is the conformance suite every babysitter.Notifier
// passes: notify/memory always, notify/sns against fauxqs's SNS with an
// SQS queue subscribed to observe what was published. It pins down what the
// decline consumer relies on: every notification is published with its
// fields intact, at least once, across batches; invalid input is refused
// with ErrInvalidInput and publishes nothing — not even the valid
// notifications of the same call; publishing again is harmless (the same
// IDs); concurrent calls all land; a cancelled context is reported.
package notifytest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/babysitter-go/babysitter"
)

// Observer sees what a Notifier published.
type Observer interface {
	// Published waits until at least n distinct notification IDs were
	// published since the Notifier was made (failing t after a generous
	// deadline), then returns every delivery so far — repeats included —
	// and anything else that arrives within a short grace period, so that
	// an extra publication shows.
	Published(t *testing.T, n int) []babysitter.Notification
}

// Harness makes fresh notifiers for the suite's tests.
type Harness struct {
	// New returns a fresh Notifier (a new topic, say) and an Observer of
	// everything it publishes. It is called from parallel tests and should
	// register cleanup with t.Cleanup.
	New func(t *testing.T) (babysitter.Notifier, Observer)
}

// Run runs the suite: every case is a parallel subtest on a fresh
// notifier.
func Run(t *testing.T, h Harness) {
	t.Helper()
	for _, c := range []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"PublishesEach", testPublishesEach},
		{"NotifyNothing", testNotifyNothing},
		{"BadInputPublishesNothing", testBadInput},
		{"RepublishIsHarmless", testRepublish},
		{"Concurrent", testConcurrent},
		{"CancelledContext", testCancelled},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, h)
		})
	}
}

// at is the time of the suite's events.
var at = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

// Booking returns the notifications of a booked job with the given number
// of declined applications: 2 + declined, in JobNotifications' order.
func Booking(jobID string, declined int) []babysitter.Notification {
	j := babysitter.Job{ID: jobID, ParentUsername: "paula", Status: babysitter.JobClosed, AcceptedApplicationID: "acc"}
	apps := []babysitter.Application{{ID: "acc", JobID: jobID, NannyUsername: "olga", Status: babysitter.ApplicationAccepted, UpdatedOn: at}}
	for i := range declined {
		apps = append(apps, babysitter.Application{
			ID: fmt.Sprintf("d%03d", i), JobID: jobID, NannyUsername: fmt.Sprintf("nanny%03d", i),
			Status: babysitter.ApplicationDeclined, UpdatedOn: at.Add(time.Duration(i) * time.Second),
		})
	}
	return babysitter.JobNotifications(j, apps)
}

// Cancellation returns the notifications of a cancelled job with n
// declined applications.
func Cancellation(jobID string, n int) []babysitter.Notification {
	j := babysitter.Job{ID: jobID, ParentUsername: "paula", Status: babysitter.JobCancelled}
	var apps []babysitter.Application
	for i := range n {
		apps = append(apps, babysitter.Application{
			ID: fmt.Sprintf("c%03d", i), JobID: jobID, NannyUsername: fmt.Sprintf("nanny%03d", i),
			Status: babysitter.ApplicationDeclined, UpdatedOn: at,
		})
	}
	return babysitter.JobNotifications(j, apps)
}

// ExactlyThese fails t unless the deliveries are the notifications of
// want, each at least once and identical every time, and nothing else. It
// returns how many times each ID was delivered.
func ExactlyThese(t *testing.T, want, got []babysitter.Notification) map[string]int {
	t.Helper()
	first := map[string]babysitter.Notification{}
	counts := map[string]int{}
	for _, n := range got {
		counts[n.ID]++
		if f, seen := first[n.ID]; seen {
			if d := cmp.Diff(f, n); d != "" {
				t.Errorf("notification %s delivered twice, differently (-first +later):\n%s", n.ID, d)
			}
			continue
		}
		first[n.ID] = n
	}
	wantByID := map[string]babysitter.Notification{}
	for _, n := range want {
		wantByID[n.ID] = n
	}
	if d := cmp.Diff(wantByID, first); d != "" {
		t.Errorf("published notifications by ID (-want +got):\n%s", d)
	}
	return counts
}

// testPublishesEach: 3 batches' worth, every field intact, each once.
func testPublishesEach(t *testing.T, h Harness) {
	n, obs := h.New(t)
	ns := Booking("job-each", 23)
	if len(ns) != 25 {
		t.Fatalf("Booking made %d notifications", len(ns))
	}
	if err := n.Notify(t.Context(), ns); err != nil {
		t.Fatalf("Notify(25): %v", err)
	}
	counts := ExactlyThese(t, ns, obs.Published(t, len(ns)))
	for id, c := range counts {
		if c != 1 {
			t.Logf("%s delivered %d times (allowed: at least once)", id, c)
		}
	}
}

// sentinel is a notification published after a call that must publish
// nothing, so that the observer has something to wait for.
func sentinel(jobID string) []babysitter.Notification {
	return Cancellation(jobID, 1)
}

// onlySentinel publishes a sentinel and fails t unless it is all that
// was published.
func onlySentinel(t *testing.T, n babysitter.Notifier, obs Observer, jobID string) {
	t.Helper()
	s := sentinel(jobID)
	if err := n.Notify(t.Context(), s); err != nil {
		t.Fatal(err)
	}
	ExactlyThese(t, s, obs.Published(t, 1))
}

// testNotifyNothing: no notifications, no publication, no error.
func testNotifyNothing(t *testing.T, h Harness) {
	n, obs := h.New(t)
	if err := n.Notify(t.Context(), nil); err != nil {
		t.Errorf("Notify(nil) = %v", err)
	}
	onlySentinel(t, n, obs, "job-nothing")
}

// testBadInput: one bad notification refuses the call, naming the field,
// and nothing of it is published.
func testBadInput(t *testing.T, h Harness) {
	n, obs := h.New(t)
	good := Booking("job-bad", 2)
	for _, tc := range []struct {
		name  string
		edit  func(*babysitter.Notification)
		field string
	}{
		{"no recipient", func(x *babysitter.Notification) { x.Recipient = "" }, "recipient"},
		{"unknown type", func(x *babysitter.Notification) { x.Type = "hired" }, "type"},
		{"forged ID", func(x *babysitter.Notification) { x.ID = "booked:job-bad:other" }, "id"},
		{"no time", func(x *babysitter.Notification) { x.At = time.Time{} }, "at"},
	} {
		ns := slices.Clone(good)
		tc.edit(&ns[3])
		err := n.Notify(t.Context(), ns)
		var ie *babysitter.InvalidInputError
		if !errors.Is(err, babysitter.ErrInvalidInput) || !errors.As(err, &ie) {
			t.Errorf("%s: Notify = %v, want ErrInvalidInput", tc.name, err)
			continue
		}
		if want := "notifications[3]." + tc.field; !slices.ContainsFunc(ie.Fields, func(f babysitter.FieldError) bool { return f.Field == want }) {
			t.Errorf("%s: fields %v, want %s", tc.name, ie.Fields, want)
		}
	}
	if err := n.Notify(t.Context(), append(slices.Clone(good), good[0])); !errors.Is(err, babysitter.ErrInvalidInput) {
		t.Errorf("Notify with one event twice = %v, want ErrInvalidInput", err)
	}
	onlySentinel(t, n, obs, "job-bad-sentinel")
}

// testRepublish: publishing the same events again (a redelivered
// consumer) yields the same IDs and contents, nothing new.
func testRepublish(t *testing.T, h Harness) {
	n, obs := h.New(t)
	ns := Booking("job-again", 4)
	for i := range 2 {
		if err := n.Notify(t.Context(), ns); err != nil {
			t.Fatalf("Notify #%d: %v", i+1, err)
		}
	}
	ExactlyThese(t, ns, obs.Published(t, len(ns)))
}

// testConcurrent: concurrent calls all land.
func testConcurrent(t *testing.T, h Harness) {
	n, obs := h.New(t)
	const callers = 8
	var want []babysitter.Notification
	var wg sync.WaitGroup
	for i := range callers {
		ns := Cancellation(fmt.Sprintf("job-c%d", i), 5)
		want = append(want, ns...)
		wg.Go(func() {
			if err := n.Notify(t.Context(), ns); err != nil {
				t.Errorf("caller %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	ExactlyThese(t, want, obs.Published(t, len(want)))
}

// testCancelled: a cancelled context is reported as such.
func testCancelled(t *testing.T, h Harness) {
	n, _ := h.New(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := n.Notify(ctx, sentinel("job-cancelled"))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Notify(cancelled ctx) = %v, want context.Canceled", err)
	}
}
