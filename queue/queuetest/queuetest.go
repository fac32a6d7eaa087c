// Package queuetest is the conformance suite every babysitter queue backend
// passes: the in-memory queue always, the SQS backend against a real SQS
// emulator. It pins down the delivery contract the Service and the Poller
// rely on — at-least-once delivery, visibility timeouts, receipt handles
// per delivery, receive counts, redrive to a dead-letter queue — so a
// backend that passes can replace another.
//
// Timing is tolerant on purpose: SQS visibility timeouts are whole seconds
// and emulators check them every few hundred milliseconds, so redelivery
// tests use 1-second timeouts, wait for events by polling with a generous
// deadline instead of sleeping a fixed time, and check lower bounds only
// ("not redelivered before ...") with slack.
package queuetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/babysitter-go/babysitter"
)

// QueueSource is a queue that can be both sent to and received from; every
// backend's queue is one.
type QueueSource interface {
	babysitter.Queue
	babysitter.Source
}

// Harness makes fresh queues for the suite's tests.
type Harness struct {
	// New returns a fresh, empty queue with the given visibility timeout
	// (whole seconds in this suite). When maxReceive is positive, a message
	// received maxReceive times and still not deleted moves to dlq, a fresh
	// empty queue, on the next receive attempt; when it is 0, dlq is nil.
	// New is called from parallel tests, and should register the queues'
	// removal with t.Cleanup. The queue's long-poll wait should be short
	// (about a second at most) to keep the suite fast; the suite tolerates
	// up to 20 seconds, SQS's maximum.
	New func(t *testing.T, visibility time.Duration, maxReceive int) (q QueueSource, dlq babysitter.Source)
}

// Time limits. They are generous because emulators notice expired
// visibility timeouts late, and a race-enabled test run is slow.
const (
	// longWait bounds one Receive on an empty queue (SQS's maximum long
	// poll plus slack).
	longWait = 25 * time.Second
	// eventually bounds waiting for something that should happen soon,
	// such as a redelivery after a 1-second visibility timeout.
	eventually = 20 * time.Second
	// prompt bounds reacting to a cancelled context.
	prompt = 3 * time.Second
	// redeliverySlack is how much earlier than its visibility timeout a
	// redelivery may seem to happen, for servers that round deadlines.
	redeliverySlack = 500 * time.Millisecond
)

// Run runs the suite: every case is a parallel subtest on fresh queues.
func Run(t *testing.T, h Harness) {
	t.Helper()
	cases := []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"SendReceiveDelete", testSendReceiveDelete},
		{"SendNothing", testSendNothing},
		{"AttributesSurvive", testAttributesSurvive},
		{"TooManyAttributes", testTooManyAttributes},
		{"ReceiveAtMostMax", testReceiveAtMostMax},
		{"ReceiveEmpty", testReceiveEmpty},
		{"ReceiveMaxOutOfRange", testReceiveMaxOutOfRange},
		{"ReceiveHonoursContext", testReceiveHonoursContext},
		{"DeletePreventsRedelivery", testDeletePreventsRedelivery},
		{"RedeliveredAfterVisibilityTimeout", testRedelivered},
		{"StaleReceiptHandle", testStaleReceiptHandle},
		{"ChangeVisibilityToZero", testChangeVisibilityToZero},
		{"ChangeVisibilityExtends", testChangeVisibilityExtends},
		{"DeadLetterAfterMaxReceive", testDeadLetter},
		{"ConcurrentReceivers", testConcurrentReceivers},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, h)
		})
	}
}

// testSendReceiveDelete: every message sent is received exactly once while
// its visibility lasts, with body and attributes intact, and deleting them
// all empties the queue.
func testSendReceiveDelete(t *testing.T, h Harness) {
	q, _ := h.New(t, 30*time.Second, 0)
	ctx := t.Context()
	sent := makeMessages("m", 25)
	if err := q.Send(ctx, sent); err != nil {
		t.Fatalf("Send(25): %v", err)
	}
	got := receiveN(t, q, len(sent))
	ids := map[string]bool{}
	receipts := map[string]bool{}
	for _, m := range got {
		if m.ID == "" || m.ReceiptHandle == "" {
			t.Errorf("message %q: ID %q, ReceiptHandle %q; want both set", m.Body, m.ID, m.ReceiptHandle)
		}
		if ids[m.ID] {
			t.Errorf("message ID %q delivered twice", m.ID)
		}
		ids[m.ID] = true
		if receipts[m.ReceiptHandle] {
			t.Errorf("receipt handle %q used twice", m.ReceiptHandle)
		}
		receipts[m.ReceiptHandle] = true
		if m.ReceiveCount != 1 {
			t.Errorf("message %q: ReceiveCount %d, want 1", m.Body, m.ReceiveCount)
		}
	}
	if diff := cmp.Diff(contents(sent), contents(got), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("received messages (-sent +received):\n%s", diff)
	}
	// Still hidden: a receive must find nothing.
	if extra := receiveOnce(t, q, 10); len(extra) > 0 {
		t.Errorf("received %d more messages while all were in flight, first %q (count %d)", len(extra), extra[0].Body, extra[0].ReceiveCount)
	}
	if err := q.Delete(ctx, got); err != nil {
		t.Fatalf("Delete(25): %v", err)
	}
	// Deleting a batch again is harmless.
	if err := q.Delete(ctx, got[:10]); err != nil {
		t.Logf("second Delete of deleted messages: %v (allowed)", err)
	}
}

// testSendNothing: sending no messages is a no-op, not an error.
func testSendNothing(t *testing.T, h Harness) {
	q, _ := h.New(t, 30*time.Second, 0)
	if err := q.Send(t.Context(), nil); err != nil {
		t.Errorf("Send(nil) = %v, want nil", err)
	}
	if got := receiveOnce(t, q, 10); len(got) > 0 {
		t.Errorf("received %d messages after sending none", len(got))
	}
}

// testAttributesSurvive: a message with the most attributes a queue
// takes, among them trace contexts in the W3C and X-Ray formats (the
// punctuation of real headers: dashes, commas, equals signs, semicolons),
// arrives with every attribute intact and a SentAt around the time of the
// Send. SentAt may be off by the queue's clock skew and is whole
// milliseconds on SQS, so the bounds are wide: they catch a missing time,
// a wrong unit or time zone, not a slow clock.
func testAttributesSurvive(t *testing.T, h Harness) {
	const skew = time.Minute
	q, _ := h.New(t, 30*time.Second, 0)
	attrs := map[string]string{
		"type":            "babysitter.DeclineJob",
		"version":         "1",
		"traceparent":     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"tracestate":      "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
		"baggage":         "userRole=parent,jobKind=BABYSITTING",
		"X-Amzn-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
		"a.b-c_d":         "names may have dots, dashes and underscores",
		"unicode":         "héllo wörld ✓",
		"spaces":          "  leading and trailing  ",
		"json":            `{"jobId":"0190a1b2-0000-7000-8000-000000000002"}`,
	}
	if len(attrs) != babysitter.MaxMessageAttributes {
		t.Fatalf("the test sends %d attributes, want the maximum %d", len(attrs), babysitter.MaxMessageAttributes)
	}
	sent := []babysitter.Message{{Body: []byte(`{"jobId":"j"}`), Attributes: attrs}}
	before := time.Now()
	if err := q.Send(t.Context(), sent); err != nil {
		t.Fatalf("Send(a message with %d attributes): %v", len(attrs), err)
	}
	after := time.Now()
	got := receiveN(t, q, 1)[0]
	if diff := cmp.Diff(attrs, got.Attributes); diff != "" {
		t.Errorf("received attributes (-sent +received):\n%s", diff)
	}
	if got.SentAt.Before(before.Add(-skew)) || got.SentAt.After(after.Add(skew)) {
		t.Errorf("SentAt %v, want between %v and %v (the Send, within %v)", got.SentAt, before, after, skew)
	}
	if err := q.Delete(t.Context(), []babysitter.Message{got}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
}

// testTooManyAttributes: a Send with a message of more than
// MaxMessageAttributes attributes (SQS refuses them) is refused, and sends
// none of its messages.
func testTooManyAttributes(t *testing.T, h Harness) {
	q, _ := h.New(t, 30*time.Second, 0)
	msgs := makeMessages("m", 2)
	for i := range babysitter.MaxMessageAttributes - 1 {
		msgs[1].Attributes["extra"+strconv.Itoa(i)] = "x"
	}
	if err := q.Send(t.Context(), msgs); err == nil {
		t.Fatalf("Send of a message with %d attributes succeeded, want an error", len(msgs[1].Attributes))
	}
	if got := receiveOnce(t, q, 10); len(got) > 0 {
		t.Errorf("received %d messages of a refused Send, first %q", len(got), got[0].Body)
	}
}

// testReceiveAtMostMax: a Receive never returns more than asked for.
func testReceiveAtMostMax(t *testing.T, h Harness) {
	q, _ := h.New(t, 30*time.Second, 0)
	sent := makeMessages("m", 15)
	if err := q.Send(t.Context(), sent); err != nil {
		t.Fatalf("Send: %v", err)
	}
	var got []babysitter.Message
	deadline := time.Now().Add(eventually)
	for len(got) < len(sent) && time.Now().Before(deadline) {
		batch := receiveOnce(t, q, 3)
		if len(batch) > 3 {
			t.Fatalf("Receive(max 3) returned %d messages", len(batch))
		}
		got = append(got, batch...)
	}
	if diff := cmp.Diff(contents(sent), contents(got), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("received messages (-sent +received):\n%s", diff)
	}
}

// testReceiveEmpty: a Receive on an empty queue ends after its wait with no
// messages and no error.
func testReceiveEmpty(t *testing.T, h Harness) {
	q, _ := h.New(t, 30*time.Second, 0)
	ctx, cancel := context.WithTimeout(t.Context(), longWait)
	defer cancel()
	got, err := q.Receive(ctx, 10)
	if err != nil {
		t.Fatalf("Receive on an empty queue: %v; want no error", err)
	}
	if len(got) != 0 {
		t.Fatalf("Receive on an empty queue returned %d messages", len(got))
	}
}

// testReceiveMaxOutOfRange: max must be 1–10, as in SQS.
func testReceiveMaxOutOfRange(t *testing.T, h Harness) {
	q, _ := h.New(t, 30*time.Second, 0)
	if err := q.Send(t.Context(), makeMessages("m", 1)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	for _, n := range []int{-1, 0, 11} {
		if got, err := q.Receive(t.Context(), n); err == nil {
			t.Errorf("Receive(max %d) = %d messages, nil error; want an error", n, len(got))
		}
	}
}

// testReceiveHonoursContext: a Receive with a cancelled context fails with
// the context's error at once, and a blocked one returns promptly when its
// context is cancelled.
func testReceiveHonoursContext(t *testing.T, h Harness) {
	q, _ := h.New(t, 30*time.Second, 0)

	done, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	if _, err := q.Receive(done, 10); !errors.Is(err, context.Canceled) {
		t.Errorf("Receive(cancelled ctx) error = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > prompt {
		t.Errorf("Receive(cancelled ctx) took %v", d)
	}

	// Cancel while receivers are waiting on the empty queue. A backend
	// with a short long-poll wait may return empty first; keep receiving
	// until the cancellation shows.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cancelledAt := make(chan time.Time, 1)
	timer := time.AfterFunc(1500*time.Millisecond, func() {
		cancelledAt <- time.Now()
		cancel()
	})
	defer timer.Stop()
	var err error
	for err == nil && time.Since(start) < longWait+prompt {
		var got []babysitter.Message
		got, err = q.Receive(ctx, 10)
		if len(got) > 0 {
			t.Fatalf("Receive on an empty queue returned %d messages", len(got))
		}
	}
	returned := time.Now()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Receive after cancel: error = %v, want context.Canceled", err)
	}
	if d := returned.Sub(<-cancelledAt); d > prompt {
		t.Errorf("Receive returned %v after its context was cancelled, want within %v", d, prompt)
	}
}

// testDeletePreventsRedelivery: a deleted message does not come back after
// its visibility timeout.
func testDeletePreventsRedelivery(t *testing.T, h Harness) {
	const vis = time.Second
	q, _ := h.New(t, vis, 0)
	if err := q.Send(t.Context(), makeMessages("m", 1)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := receiveN(t, q, 1)
	if err := q.Delete(t.Context(), got); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	// Watch for two visibility timeouts: long enough for an emulator to
	// have redelivered an undeleted message.
	for end := time.Now().Add(2 * vis); time.Now().Before(end); {
		if again := receiveOnce(t, q, 10); len(again) > 0 {
			t.Fatalf("deleted message %q redelivered (count %d)", again[0].Body, again[0].ReceiveCount)
		}
	}
}

// testRedelivered: a message that is not deleted comes back after its
// visibility timeout, not before, as the same message with ReceiveCount 2
// and a new receipt handle.
func testRedelivered(t *testing.T, h Harness) {
	const vis = time.Second
	q, _ := h.New(t, vis, 0)
	sent := makeMessages("m", 1)
	if err := q.Send(t.Context(), sent); err != nil {
		t.Fatalf("Send: %v", err)
	}
	start := time.Now() // before the first delivery, so a lower bound on its visibility
	first := receiveN(t, q, 1)[0]
	second := receiveN(t, q, 1)[0]
	if d := time.Since(start); d < vis-redeliverySlack {
		t.Errorf("redelivered %v after the first receive began, before the %v visibility timeout", d, vis)
	}
	checkRedelivery(t, first, second, 2)
	if diff := cmp.Diff(contents(sent), contents([]babysitter.Message{second}), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("redelivered message (-sent +received):\n%s", diff)
	}
	if err := q.Delete(t.Context(), []babysitter.Message{second}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
}

// testStaleReceiptHandle: deleting with the receipt handle of an earlier
// delivery must not delete the redelivered message (a slow consumer whose
// visibility ran out no longer owns it). The backend may report an error
// or ignore the call, as SQS does.
func testStaleReceiptHandle(t *testing.T, h Harness) {
	const vis = time.Second
	q, _ := h.New(t, vis, 0)
	if err := q.Send(t.Context(), makeMessages("m", 1)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	first := receiveN(t, q, 1)[0]
	second := receiveN(t, q, 1)[0] // after the visibility timeout
	checkRedelivery(t, first, second, 2)
	if err := q.Delete(t.Context(), []babysitter.Message{first}); err != nil {
		t.Logf("Delete with a stale receipt handle: %v (allowed)", err)
	}
	// The current delivery still owns the message: make it visible and it
	// must come back.
	if err := q.ChangeVisibility(t.Context(), second, 0); err != nil {
		t.Fatalf("ChangeVisibility(current receipt, 0) after a stale Delete: %v; the stale Delete deleted the message?", err)
	}
	third := receiveN(t, q, 1)[0]
	checkRedelivery(t, second, third, 3)
	if err := q.Delete(t.Context(), []babysitter.Message{third}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if again := receiveOnce(t, q, 10); len(again) > 0 {
		t.Errorf("message redelivered after Delete with its current receipt handle")
	}
}

// testChangeVisibilityToZero: a visibility of 0 makes an in-flight message
// available again at once.
func testChangeVisibilityToZero(t *testing.T, h Harness) {
	q, _ := h.New(t, 30*time.Second, 0)
	if err := q.Send(t.Context(), makeMessages("m", 1)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	first := receiveN(t, q, 1)[0]
	if err := q.ChangeVisibility(t.Context(), first, 0); err != nil {
		t.Fatalf("ChangeVisibility(0): %v", err)
	}
	start := time.Now()
	second := receiveN(t, q, 1)[0]
	// Far below the 30-second visibility: only the change explains it.
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("redelivery took %v after ChangeVisibility(0)", d)
	}
	checkRedelivery(t, first, second, 2)
}

// testChangeVisibilityExtends: extending the visibility of an in-flight
// message keeps it hidden past its original timeout (how the Poller keeps
// the messages of a slow handler).
func testChangeVisibilityExtends(t *testing.T, h Harness) {
	const vis, extended = time.Second, 2 * time.Second
	q, _ := h.New(t, vis, 0)
	if err := q.Send(t.Context(), makeMessages("m", 1)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	first := receiveN(t, q, 1)[0]
	start := time.Now()
	if err := q.ChangeVisibility(t.Context(), first, extended); err != nil {
		t.Fatalf("ChangeVisibility(%v): %v", extended, err)
	}
	second := receiveN(t, q, 1)[0]
	if d := time.Since(start); d < extended-redeliverySlack {
		t.Errorf("redelivered %v after extending the visibility to %v", d, extended)
	}
	checkRedelivery(t, first, second, 2)
}

// testDeadLetter: a message received maxReceive times without being deleted
// moves to the dead-letter queue with body and attributes intact, and
// leaves the main queue.
func testDeadLetter(t *testing.T, h Harness) {
	const vis, maxReceive = time.Second, 2
	q, dlq := h.New(t, vis, maxReceive)
	if dlq == nil {
		t.Fatal("Harness.New returned a nil dead-letter queue for maxReceive 2")
	}
	sent := makeMessages("poison", 1)
	if err := q.Send(t.Context(), sent); err != nil {
		t.Fatalf("Send: %v", err)
	}
	for want := 1; want <= maxReceive; want++ {
		m := receiveN(t, q, 1)[0]
		if m.ReceiveCount != want {
			t.Fatalf("delivery %d has ReceiveCount %d", want, m.ReceiveCount)
		}
	}
	// Redrive happens on a receive attempt on the main queue, so keep
	// receiving from both until the message shows up in the dead-letter
	// queue; the main queue must not deliver it again meanwhile.
	var dead []babysitter.Message
	for deadline := time.Now().Add(eventually); len(dead) == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("message not in the dead-letter queue %v after its last delivery", eventually)
		}
		if again := receiveOnce(t, q, 10); len(again) > 0 {
			t.Fatalf("main queue delivered the message again (ReceiveCount %d) after %d receives", again[0].ReceiveCount, maxReceive)
		}
		dead = receiveOnce(t, dlq, 10)
	}
	if diff := cmp.Diff(contents(sent), contents(dead), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("dead-lettered messages (-sent +dead):\n%s", diff)
	}
	if err := dlq.Delete(t.Context(), dead); err != nil {
		t.Errorf("Delete from the dead-letter queue: %v", err)
	}
	// Past another visibility timeout the main queue is still empty.
	for end := time.Now().Add(vis); time.Now().Before(end); {
		if again := receiveOnce(t, q, 10); len(again) > 0 {
			t.Fatalf("main queue delivered the dead-lettered message again (ReceiveCount %d)", again[0].ReceiveCount)
		}
	}
}

// testConcurrentReceivers: receivers racing on one queue each get distinct
// messages: none is delivered twice before its visibility runs out, and
// none is lost.
func testConcurrentReceivers(t *testing.T, h Harness) {
	const receivers, total = 8, 200
	q, _ := h.New(t, 30*time.Second, 0)
	sent := makeMessages("m", total)
	if err := q.Send(t.Context(), sent); err != nil {
		t.Fatalf("Send(%d): %v", total, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*eventually)
	defer cancel()
	var (
		mu    sync.Mutex
		got   []babysitter.Message
		byID  = map[string]int{}
		wg    sync.WaitGroup
		errs  = make(chan error, receivers)
		dupes int
	)
	for range receivers {
		wg.Go(func() {
			for ctx.Err() == nil {
				batch, err := q.Receive(ctx, 10)
				if err != nil {
					if ctx.Err() == nil {
						errs <- err
					}
					return
				}
				if len(batch) > 0 {
					// Delete concurrently too: it races with the receives.
					if err := q.Delete(ctx, batch); err != nil {
						errs <- err
						return
					}
				}
				mu.Lock()
				for _, m := range batch {
					byID[m.ID]++
					if byID[m.ID] > 1 {
						dupes++
					}
				}
				got = append(got, batch...)
				if len(byID) == total {
					cancel()
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("receiver: %v", err)
	}
	if dupes > 0 {
		t.Errorf("%d deliveries of messages already delivered to another receiver within the visibility timeout", dupes)
	}
	if diff := cmp.Diff(contents(sent), contents(got), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("received messages (-sent +received):\n%s", diff)
	}
	if extra := receiveOnce(t, q, 10); len(extra) > 0 {
		t.Errorf("queue not empty after every message was received and deleted: %q", extra[0].Body)
	}
}

// content is what a message carries from sender to receiver.
type content struct {
	Body       string
	Attributes map[string]string
}

// contents returns msgs' contents sorted by body, to compare sets of
// messages whatever their delivery order.
func contents(msgs []babysitter.Message) []content {
	out := make([]content, len(msgs))
	for i, m := range msgs {
		out[i] = content{Body: string(m.Body), Attributes: m.Attributes}
	}
	slices.SortFunc(out, func(a, b content) int {
		switch {
		case a.Body < b.Body:
			return -1
		case a.Body > b.Body:
			return 1
		}
		return 0
	})
	return out
}

// makeMessages returns n messages with distinct bodies and attributes (SQS
// attribute values must not be empty).
func makeMessages(prefix string, n int) []babysitter.Message {
	msgs := make([]babysitter.Message, n)
	for i := range msgs {
		msgs[i] = babysitter.Message{
			Body: []byte(fmt.Sprintf(`{"%s":%d,"text":"héllo wörld"}`, prefix, i)),
			Attributes: map[string]string{
				"kind": prefix,
				"seq":  strconv.Itoa(i),
			},
		}
	}
	return msgs
}

// receiveOnce makes one Receive and fails the test on an error.
func receiveOnce(t *testing.T, src babysitter.Source, maxMsgs int) []babysitter.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), longWait)
	defer cancel()
	msgs, err := src.Receive(ctx, maxMsgs)
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	return msgs
}

// receiveN receives until it has n messages, failing the test if they do
// not arrive in time or more arrive.
func receiveN(t *testing.T, src babysitter.Source, n int) []babysitter.Message {
	t.Helper()
	var got []babysitter.Message
	deadline := time.Now().Add(eventually)
	for len(got) < n {
		if time.Now().After(deadline) {
			t.Fatalf("received %d of %d messages in %v", len(got), n, eventually)
		}
		got = append(got, receiveOnce(t, src, min(n-len(got), 10))...)
	}
	if len(got) > n {
		t.Fatalf("received %d messages, want %d", len(got), n)
	}
	return got
}

// checkRedelivery checks that next is a later delivery of the message prev
// with the given receive count and a new receipt handle.
func checkRedelivery(t *testing.T, prev, next babysitter.Message, wantCount int) {
	t.Helper()
	if next.ID != prev.ID {
		t.Errorf("redelivered message ID %q, want %q", next.ID, prev.ID)
	}
	if next.ReceiveCount != wantCount {
		t.Errorf("redelivered message ReceiveCount %d, want %d", next.ReceiveCount, wantCount)
	}
	if next.ReceiptHandle == prev.ReceiptHandle {
		t.Errorf("redelivery reused receipt handle %q", next.ReceiptHandle)
	}
	if string(next.Body) != string(prev.Body) {
		t.Errorf("redelivered body %q, want %q", next.Body, prev.Body)
	}
}
