package babysitter

import (
	"context"
	"time"
)

// Message is one queue message. ID, ReceiptHandle, ReceiveCount and
// SentAt are set by the queue on receive.
type Message struct {
	ID   string
	Body []byte
	// Attributes travel beside the body: the decline message's type and
	// version, and the trace context of the call that sent it (see
	// Options.Propagator). At most MaxMessageAttributes.
	Attributes map[string]string
	// ReceiptHandle identifies this delivery for Delete and ChangeVisibility.
	ReceiptHandle string
	// ReceiveCount is how many times the message has been delivered, this
	// delivery included.
	ReceiveCount int
	// SentAt is when the queue accepted the message (SQS's SentTimestamp,
	// to the millisecond), or zero when the queue does not say. The
	// Decliner measures the decline lag from it.
	SentAt time.Time
}

// MaxMessageAttributes is the most attributes a message may carry: SQS's
// limit, which every Queue enforces so that what works in memory works on
// SQS.
const MaxMessageAttributes = 10

// Queue is what the Service sends messages through.
type Queue interface {
	// Send sends msgs with at-least-once delivery, batching at most 10 per
	// request and retrying only the entries that failed. The error, if any,
	// means some messages may not have been sent.
	Send(ctx context.Context, msgs []Message) error
}

// Source is what a Poller receives from: a queue with a visibility timeout
// (a received message is hidden, then redelivered unless deleted) and a
// dead-letter queue after a maximum receive count.
type Source interface {
	// Receive waits up to the source's long-poll time for at most max
	// messages (1–10) and returns what arrived, possibly none.
	Receive(ctx context.Context, max int) ([]Message, error)
	// Delete acknowledges messages so they are not redelivered.
	Delete(ctx context.Context, msgs []Message) error
	// ChangeVisibility hides a received message for timeout from now.
	ChangeVisibility(ctx context.Context, msg Message, timeout time.Duration) error
}

// BatchHandler handles a batch of received messages and returns the IDs of
// the ones that failed: only those are redelivered (SQS's partial batch
// response). The Lambda SQS consumer and the Poller share it.
type BatchHandler func(ctx context.Context, msgs []Message) (failedIDs []string)
