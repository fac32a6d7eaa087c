package memory_test

import (
	"context"
	"testing"
	"time"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/queue/memory"
	"github.com/babysitter-go/babysitter/queue/queuetest"
)

// TestConformance runs the shared queue suite against the in-memory queue.
func TestConformance(t *testing.T) {
	queuetest.Run(t, queuetest.Harness{
		New: func(t *testing.T, visibility time.Duration, maxReceive int) (queuetest.QueueSource, babysitter.Source) {
			// A short long-poll wait keeps the suite's empty receives fast.
			const wait = 100 * time.Millisecond
			if maxReceive == 0 {
				return memory.New(memory.Options{VisibilityTimeout: visibility, WaitTime: wait}), nil
			}
			dlq := memory.New(memory.Options{WaitTime: wait})
			q := memory.New(memory.Options{VisibilityTimeout: visibility, WaitTime: wait, MaxReceiveCount: maxReceive, DeadLetter: dlq})
			return q, dlq
		},
	})
}

// TestReceiveWakesOnSend checks what the suite cannot with its short wait:
// a Receive blocked in a long wait returns as soon as a message is sent,
// rather than at the end of its wait.
func TestReceiveWakesOnSend(t *testing.T) {
	q := memory.New(memory.Options{WaitTime: time.Minute})
	time.AfterFunc(100*time.Millisecond, func() {
		_ = q.Send(context.Background(), []babysitter.Message{{Body: []byte("x")}})
	})
	start := time.Now()
	got, err := q.Receive(t.Context(), 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("Receive = %d messages, %v; want 1, nil", len(got), err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Receive woke %v after the send", d)
	}
}

// TestClockAndLen checks visibility against the injected clock and Len's
// counts, which the Poller tests rely on to see a drained queue.
func TestClockAndLen(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	q := memory.New(memory.Options{VisibilityTimeout: time.Minute, WaitTime: -1, Now: func() time.Time { return now }})
	ctx := t.Context()
	if err := q.Send(ctx, []babysitter.Message{{Body: []byte("a")}, {Body: []byte("b")}}); err != nil {
		t.Fatal(err)
	}
	got, err := q.Receive(ctx, 1)
	if err != nil || len(got) != 1 {
		t.Fatalf("Receive = %d messages, %v", len(got), err)
	}
	if v, f := q.Len(); v != 1 || f != 1 {
		t.Errorf("Len = %d visible, %d in flight; want 1, 1", v, f)
	}
	now = now.Add(time.Minute) // the received message's visibility ends
	if v, f := q.Len(); v != 2 || f != 0 {
		t.Errorf("after the visibility timeout Len = %d, %d; want 2, 0", v, f)
	}
	if err := q.Delete(ctx, got); err != nil {
		t.Fatal(err)
	}
	if v, f := q.Len(); v != 1 || f != 0 {
		t.Errorf("after Delete Len = %d, %d; want 1, 0", v, f)
	}
	// Short polling (negative WaitTime) returns at once when nothing is visible.
	if _, err := q.Receive(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if got, err := q.Receive(ctx, 10); err != nil || len(got) != 0 {
		t.Errorf("short poll on a queue with nothing visible = %d messages, %v", len(got), err)
	}
	if err := q.Send(ctx, []babysitter.Message{{}}); err == nil {
		t.Error("Send of an empty body succeeded; SQS refuses it")
	}
}
