// Package memory is an in-process queue with the semantics of a standard
// Amazon SQS queue: at-least-once delivery, a visibility timeout per
// delivery, receipt handles that name one delivery, a receive count, long
// polling, and redrive to a dead-letter queue after a maximum receive count.
//
// It is the embedded default behind the examples and the backend tests use
// when they need a queue without a server. It passes the same conformance
// suite (queue/queuetest) as the SQS backend, so code that works against it
// meets the same delivery contract in production. Messages live only in
// memory: they are lost when the process exits.
package memory

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/babysitter-go/babysitter"
)

// Default option values.
const (
	// DefaultVisibilityTimeout is SQS's own default.
	DefaultVisibilityTimeout = 30 * time.Second
	// DefaultWaitTime bounds a Receive on an empty queue. Receive returns as
	// soon as a message is available, so a longer wait costs nothing but
	// the latency of noticing a cancelled context, which Receive honours
	// anyway.
	DefaultWaitTime = time.Second
	// MaxVisibilityTimeout is SQS's limit for one visibility change.
	MaxVisibilityTimeout = 12 * time.Hour
)

// ErrInvalidReceipt is returned by ChangeVisibility for a receipt handle
// that does not name the current delivery of a message in the queue: the
// message was deleted, moved to the dead-letter queue or redelivered since
// (SQS answers such calls with an error too).
var ErrInvalidReceipt = errors.New("memory: receipt handle is not current")

// Options configure a Queue. The zero value is an SQS-like queue with a
// 30-second visibility timeout and no dead-letter queue.
type Options struct {
	// VisibilityTimeout is how long a received message stays hidden before
	// it is delivered again unless deleted; default 30s.
	VisibilityTimeout time.Duration
	// WaitTime is how long Receive waits on an empty queue before it
	// returns no messages (SQS's long polling); default 1s. A negative
	// value makes Receive return at once (short polling). Receive returns
	// early as soon as a message is available.
	WaitTime time.Duration
	// MaxReceiveCount, when positive, is the number of deliveries after
	// which a message that is still not deleted moves to DeadLetter on the
	// next receive attempt instead of being delivered again (SQS's redrive
	// policy). Zero keeps redelivering forever.
	MaxReceiveCount int
	// DeadLetter receives the exhausted messages. It is required when
	// MaxReceiveCount is positive.
	DeadLetter *Queue
	// Now returns the current time for visibility deadlines; default
	// time.Now. Waiting (WaitTime, waking when a message becomes visible)
	// still uses real timers, so a test clock should advance and a Receive
	// be retried rather than expect a blocked Receive to notice the jump.
	Now func() time.Time
}

// Queue is an in-memory SQS-like queue. It implements babysitter.Queue and
// babysitter.Source and is safe for concurrent use.
type Queue struct {
	visibility time.Duration
	wait       time.Duration
	maxReceive int
	dlq        *Queue
	now        func() time.Time

	mu sync.Mutex
	// msgs holds every message not deleted, in send order, so receives are
	// roughly first-in first-out like a standard SQS queue.
	msgs []*entry
	// inFlight maps the receipt handle of each message's current delivery
	// to the message; older handles are absent, which is what makes a stale
	// handle harmless.
	inFlight map[string]*entry
	// changed is closed (and replaced) whenever a message may have become
	// visible ahead of the deadlines Receive already waits for (a send, a
	// visibility change), to wake blocked receivers without polling.
	changed chan struct{}
	// deliveries numbers receipt handles.
	deliveries uint64
}

// entry is one message in the queue.
type entry struct {
	id           string
	body         []byte
	attrs        map[string]string
	receiveCount int
	sentAt       time.Time // kept when the message moves to the dead-letter queue
	visibleAt    time.Time
	receipt      string // the current delivery's handle; "" before the first
}

// New returns an empty queue. It panics if MaxReceiveCount is positive and
// DeadLetter is nil, a configuration that could never be right.
func New(opts Options) *Queue {
	if opts.MaxReceiveCount > 0 && opts.DeadLetter == nil {
		panic("memory: MaxReceiveCount needs a DeadLetter queue")
	}
	q := &Queue{
		visibility: opts.VisibilityTimeout,
		wait:       opts.WaitTime,
		maxReceive: max(opts.MaxReceiveCount, 0),
		dlq:        opts.DeadLetter,
		now:        opts.Now,
		inFlight:   make(map[string]*entry),
		changed:    make(chan struct{}),
	}
	if q.visibility <= 0 {
		q.visibility = DefaultVisibilityTimeout
	}
	if q.wait == 0 {
		q.wait = DefaultWaitTime
	}
	if q.now == nil {
		q.now = time.Now
	}
	return q
}

// Send enqueues copies of msgs with fresh message IDs; the ID,
// ReceiptHandle, ReceiveCount and SentAt of the arguments are ignored. Any
// number of messages may be sent at once. Like SQS it refuses an empty
// body and more than babysitter.MaxMessageAttributes attributes, so code
// tested here does not fail only in production; a refused call enqueues
// nothing.
func (q *Queue) Send(ctx context.Context, msgs []babysitter.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for i, m := range msgs {
		if len(m.Body) == 0 {
			return fmt.Errorf("memory: send: message %d has an empty body", i)
		}
		if len(m.Attributes) > babysitter.MaxMessageAttributes {
			return fmt.Errorf("memory: send: message %d has %d attributes, more than %d", i, len(m.Attributes), babysitter.MaxMessageAttributes)
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	for _, m := range msgs {
		q.msgs = append(q.msgs, &entry{
			id:        uuid.NewString(),
			body:      cloneBytes(m.Body),
			attrs:     cloneAttrs(m.Attributes),
			sentAt:    now,
			visibleAt: now,
		})
	}
	q.signalLocked()
	return nil
}

// Receive returns up to max (1–10) visible messages, hiding each for the
// visibility timeout. On an empty queue it waits up to the wait time and
// returns as soon as a message is sent or an in-flight one becomes visible
// again; it returns (nil, nil) when the wait ends empty and ctx's error when
// ctx is done first. Messages that exhausted MaxReceiveCount move to the
// dead-letter queue here, as SQS moves them on a receive attempt.
func (q *Queue) Receive(ctx context.Context, maxMsgs int) ([]babysitter.Message, error) {
	if maxMsgs < 1 || maxMsgs > 10 {
		return nil, fmt.Errorf("memory: receive: max must be 1–10, got %d", maxMsgs)
	}
	var deadline <-chan time.Time
	if q.wait > 0 {
		t := time.NewTimer(q.wait)
		defer t.Stop()
		deadline = t.C
	}
	for {
		// Checked on every pass, not only on entry: a receiver woken by a
		// send and a cancellation at once must not take messages it was
		// told to stop receiving (a stopping Poller would hold them).
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		q.mu.Lock()
		msgs, next := q.takeLocked(maxMsgs)
		changed := q.changed
		q.mu.Unlock()
		if len(msgs) > 0 {
			return msgs, nil
		}
		if deadline == nil {
			return nil, nil
		}
		if woke, err := q.await(ctx, deadline, changed, next); !woke {
			return nil, err
		}
	}
}

// await blocks until ctx is done (false and its error), the long poll's
// deadline passes (false, nil), or it is worth looking again (true): the
// queue changed, or next — the earliest time an in-flight message becomes
// visible again — arrived. SQS's long poll returns redelivered messages too,
// so a receiver must not sleep through them.
func (q *Queue) await(ctx context.Context, deadline <-chan time.Time, changed <-chan struct{}, next time.Time) (bool, error) {
	var visible <-chan time.Time
	if !next.IsZero() {
		t := time.NewTimer(max(next.Sub(q.now()), 0))
		defer t.Stop()
		visible = t.C
	}
	select {
	case <-ctx.Done():
		return false, ctx.Err()
	case <-deadline:
		return false, nil
	case <-changed:
	case <-visible:
	}
	return true, nil
}

// takeLocked delivers up to maxMsgs visible messages and returns them with the
// earliest time an in-flight message becomes visible (zero if none).
func (q *Queue) takeLocked(maxMsgs int) ([]babysitter.Message, time.Time) {
	now := q.now()
	var out []babysitter.Message
	var next time.Time
	moved := false
	kept := q.msgs[:0]
	for _, e := range q.msgs {
		switch {
		case len(out) == maxMsgs:
			if !moved {
				// Nothing to compact: stop scanning a long queue early.
				return out, next
			}
		case e.visibleAt.After(now):
			if next.IsZero() || e.visibleAt.Before(next) {
				next = e.visibleAt
			}
		case q.maxReceive > 0 && e.receiveCount >= q.maxReceive:
			// Exhausted: redrive instead of delivering. The message keeps
			// its ID (as in SQS); its receive count starts over in the
			// dead-letter queue. Holding q.mu while locking the dead-letter
			// queue cannot deadlock: a queue's DeadLetter exists before it,
			// so the lock order always follows creation order.
			delete(q.inFlight, e.receipt)
			q.dlq.push(e)
			moved = true
			continue
		default:
			q.deliveries++
			delete(q.inFlight, e.receipt)
			e.receipt = e.id + "#" + strconv.FormatUint(q.deliveries, 10)
			e.receiveCount++
			e.visibleAt = now.Add(q.visibility)
			q.inFlight[e.receipt] = e
			out = append(out, babysitter.Message{
				ID:            e.id,
				Body:          cloneBytes(e.body),
				Attributes:    cloneAttrs(e.attrs),
				ReceiptHandle: e.receipt,
				ReceiveCount:  e.receiveCount,
				SentAt:        e.sentAt,
			})
			if e.visibleAt.Before(next) || next.IsZero() {
				next = e.visibleAt
			}
		}
		kept = append(kept, e)
	}
	if moved {
		clear(q.msgs[len(kept):]) // let the moved entries be collected
		q.msgs = kept
	}
	return out, next
}

// push enqueues a message moved from another queue, keeping its ID,
// content and sent time.
func (q *Queue) push(e *entry) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.msgs = append(q.msgs, &entry{id: e.id, body: e.body, attrs: e.attrs, sentAt: e.sentAt, visibleAt: q.now()})
	q.signalLocked()
}

// Delete removes the messages whose receipt handles name their current
// delivery. Like SQS, a stale handle (the message was redelivered since, or
// is already deleted) is ignored without error and deletes nothing: the
// newer delivery's consumer owns the message now. A message without a
// receipt handle was never received and is an error; a refused call deletes
// nothing.
func (q *Queue) Delete(ctx context.Context, msgs []babysitter.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for i, m := range msgs {
		if m.ReceiptHandle == "" {
			return fmt.Errorf("memory: delete: message %d (%q) has no receipt handle", i, m.ID)
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	gone := make(map[*entry]bool, len(msgs))
	for _, m := range msgs {
		if e, ok := q.inFlight[m.ReceiptHandle]; ok {
			delete(q.inFlight, m.ReceiptHandle)
			gone[e] = true
		}
	}
	if len(gone) == 0 {
		return nil
	}
	kept := q.msgs[:0]
	for _, e := range q.msgs {
		if !gone[e] {
			kept = append(kept, e)
		}
	}
	clear(q.msgs[len(kept):])
	q.msgs = kept
	return nil
}

// ChangeVisibility hides the delivered message for timeout from now (0
// makes it visible at once), as long as msg's receipt handle names the
// message's current delivery; otherwise it returns an error matching
// ErrInvalidReceipt. A message whose visibility already ran out but which
// was not redelivered yet can still be hidden again with its handle.
func (q *Queue) ChangeVisibility(ctx context.Context, msg babysitter.Message, timeout time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if timeout < 0 || timeout > MaxVisibilityTimeout {
		return fmt.Errorf("memory: change visibility: timeout %v out of range 0–%v", timeout, MaxVisibilityTimeout)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	e, ok := q.inFlight[msg.ReceiptHandle]
	if !ok {
		return fmt.Errorf("%w (message %q)", ErrInvalidReceipt, msg.ID)
	}
	e.visibleAt = q.now().Add(timeout)
	// Receivers wait for the old deadline; a shorter one must wake them.
	q.signalLocked()
	return nil
}

// Len reports how many messages are visible (waiting to be received) and in
// flight (received, neither deleted nor visible again). Messages due for the
// dead-letter queue count as visible until a receive attempt moves them.
// Tests use it to check that a queue drained.
func (q *Queue) Len() (visible, inFlight int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	for _, e := range q.msgs {
		if e.visibleAt.After(now) {
			inFlight++
		} else {
			visible++
		}
	}
	return visible, inFlight
}

// signalLocked wakes every blocked Receive.
func (q *Queue) signalLocked() {
	close(q.changed)
	q.changed = make(chan struct{})
}

func cloneBytes(b []byte) []byte { return append([]byte(nil), b...) }

// cloneAttrs copies attributes so neither the sender nor a receiver can
// change what the queue holds; no attributes stay nil.
func cloneAttrs(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}

// The compile-time proof of the contracts.
var (
	_ babysitter.Queue  = (*Queue)(nil)
	_ babysitter.Source = (*Queue)(nil)
)
