// Package sqs is the Amazon SQS backend of babysitter.Queue and
// babysitter.Source: a standard (not FIFO) queue with a redrive policy to a
// dead-letter queue.
//
// Round trips: a Send of N small messages is ⌈N/10⌉ SendMessageBatch calls
// (a batch also stays under 256 KiB of payload); a Receive is one
// ReceiveMessage with long polling; a Delete of N messages is ⌈N/10⌉
// DeleteMessageBatch calls; a ChangeVisibility is one
// ChangeMessageVisibility. Throttling and 5xx responses are retried by the
// SDK client's retryer (configure it on the client); Send also retries the
// entries of a batch that the queue failed on its side, and only those.
//
// Message attributes travel as SQS message attributes of type String (at
// most babysitter.MaxMessageAttributes, SQS's limit): the decline
// message's type and version and the trace context of the booking that
// sent it. Received attributes of type Number come back as their string
// form; Binary attributes, which no babysitter code sends, are left out. A
// received message's SentAt is its SentTimestamp.
//
// It passes queue/queuetest against fauxqs, an SQS emulator, and the
// Service-level invariants against fauxqs and DynamoDB Local
// (internal/fullstack).
package sqs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/babysitter-go/babysitter"
)

// SQS limits and this package's defaults.
const (
	// MaxWaitTime is SQS's longest long poll, and the default WaitTime.
	MaxWaitTime = 20 * time.Second
	// MaxVisibilityTimeout is SQS's longest visibility timeout.
	MaxVisibilityTimeout = 12 * time.Hour
	// DefaultMaxSendAttempts bounds the attempts per message whose batch
	// entry the queue failed on its side (SenderFault false).
	DefaultMaxSendAttempts = 5

	// DefaultSendConcurrency bounds the SendMessageBatch requests one Send
	// has in flight.
	DefaultSendConcurrency = 8

	// maxBatchEntries is SQS's limit on entries per batch request.
	maxBatchEntries = 10
	// maxBatchBytes is the payload limit of one SendMessageBatch as SQS
	// counts it (bodies plus attribute names, types and values). SQS now
	// accepts up to 1 MiB, but 256 KiB is the limit every SQS-compatible
	// server honours and far above what a batch of declines weighs.
	maxBatchBytes = 256 << 10
	// The wait before resending failed entries: from sendBackoffMin,
	// doubling per attempt up to sendBackoffMax, with jitter.
	sendBackoffMin = 50 * time.Millisecond
	sendBackoffMax = 2 * time.Second
	// stringType is the DataType of every attribute this package sends.
	stringType = "String"
)

// ErrQueueNotFound matches (errors.Is) the error of any call on a queue
// that does not exist. The SDK's *types.QueueDoesNotExist stays reachable
// with errors.As.
var ErrQueueNotFound = errors.New("sqs: queue does not exist")

// Options configure a Queue. The zero value long-polls for 20 seconds and
// uses the queue's own visibility timeout.
type Options struct {
	// WaitTime is how long Receive waits on an empty queue (SQS long
	// polling), in whole seconds from 0 to 20: it is rounded up to a whole
	// second and capped at 20s. Zero means 20s, the cheapest setting (a
	// Receive returns as soon as a message arrives, and a cancelled
	// context ends it at once). A negative value leaves the wait to the
	// queue's ReceiveMessageWaitTimeSeconds attribute: short polling
	// unless the queue sets one.
	WaitTime time.Duration
	// VisibilityTimeout, when positive, is the visibility timeout of the
	// messages this Queue receives, overriding the queue's own: rounded up
	// to whole seconds, at most 12 hours. Zero uses the queue's setting.
	VisibilityTimeout time.Duration
	// MaxSendAttempts bounds how many times Send sends a message whose
	// batch entry failed on the queue's side; default
	// DefaultMaxSendAttempts. Entries failed as the sender's fault (an
	// invalid body, say) are not retried at all.
	MaxSendAttempts int
	// SendConcurrency bounds how many SendMessageBatch requests one Send
	// has in flight: a booking with N other applications then waits about
	// ⌈N/10⌉/SendConcurrency round trips instead of ⌈N/10⌉. Default
	// DefaultSendConcurrency; 1 sends the batches one after another, in
	// order.
	SendConcurrency int
}

// Queue is one SQS queue, as a babysitter.Queue (Send) and a
// babysitter.Source (Receive, Delete, ChangeVisibility). It is safe for
// concurrent use.
type Queue struct {
	client          API
	url             string
	name            string // for error messages
	wait            int32
	visibility      int32 // 0: the queue's own
	maxSendAttempts int
	sendConcurrency int
}

// The compile-time proof of the contracts.
var (
	_ babysitter.Queue  = (*Queue)(nil)
	_ babysitter.Source = (*Queue)(nil)
)

// New returns the queue at queueURL, reached through client: a *sqs.Client,
// or anything wrapping one (see API). The client carries the region,
// credentials, endpoint and retry policy.
func New(client API, queueURL string, opts Options) *Queue {
	q := &Queue{
		client:          client,
		url:             queueURL,
		name:            queueName(queueURL),
		maxSendAttempts: opts.MaxSendAttempts,
	}
	switch {
	case opts.WaitTime == 0:
		q.wait = seconds(MaxWaitTime)
	case opts.WaitTime > 0:
		q.wait = seconds(min(opts.WaitTime, MaxWaitTime))
	}
	if opts.VisibilityTimeout > 0 {
		q.visibility = seconds(min(opts.VisibilityTimeout, MaxVisibilityTimeout))
	}
	if q.maxSendAttempts <= 0 {
		q.maxSendAttempts = DefaultMaxSendAttempts
	}
	q.sendConcurrency = opts.SendConcurrency
	if q.sendConcurrency <= 0 {
		q.sendConcurrency = DefaultSendConcurrency
	}
	return q
}

// URL returns the queue's URL.
func (q *Queue) URL() string { return q.url }

// seconds rounds d up to whole seconds: a visibility or wait shorter than
// asked for would be wrong, a little longer is harmless.
func seconds(d time.Duration) int32 {
	return int32((d + time.Second - 1) / time.Second)
}

// queueName is the last path element of a queue URL.
func queueName(queueURL string) string {
	if u, err := url.Parse(queueURL); err == nil && u.Path != "" {
		return path.Base(u.Path)
	}
	return queueURL
}

// ---- Send ----

// FailedEntry is one message a Send could not send.
type FailedEntry struct {
	// Index is the message's position in the slice given to Send.
	Index int
	// Code and Message are the queue's reason.
	Code, Message string
	// SenderFault reports that the queue blamed the message itself (an
	// invalid body, say): it was not retried. Otherwise it failed on every
	// attempt.
	SenderFault bool
	// Attempts is how many times the message was sent.
	Attempts int
}

// SendError is the error of a Send in which the queue refused some
// messages; every other message was sent.
type SendError struct {
	// Queue is the queue's name.
	Queue string
	// Total is how many messages the Send was given.
	Total int
	// Failed lists the messages not sent, in the order given.
	Failed []FailedEntry
}

// Error implements the error interface.
func (e *SendError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sqs: send to %s: %d of %d messages not sent:", e.Queue, len(e.Failed), e.Total)
	for i, f := range e.Failed {
		if i > 0 {
			b.WriteByte(';')
		}
		fmt.Fprintf(&b, " message %d: %s: %s", f.Index, f.Code, f.Message)
		if f.SenderFault {
			b.WriteString(" (sender fault, not retried)")
		} else {
			fmt.Fprintf(&b, " (after %d attempts)", f.Attempts)
		}
	}
	return b.String()
}

// Send sends msgs in SendMessageBatch requests of at most 10 messages and
// 256 KiB each, so N small messages take ⌈N/10⌉ requests, up to
// Options.SendConcurrency of them at once (SQS queues are not FIFO here:
// order across batches carries no meaning). When
// the queue fails some entries of a batch on its side, Send resends only
// those, with backoff, up to Options.MaxSendAttempts times; entries failed
// as the sender's fault are not resent. Messages refused in the end are
// reported by a *SendError, after Send has sent all the others.
//
// An error from a request itself (after the client's own retries) does
// not stop the other batches; Send's error then joins the request errors
// (errors.As reaches the SDK's) and says how many messages may not have
// been sent. A message with an empty body, a body or attribute that is not
// valid UTF-8, an empty attribute name or value, or more than
// babysitter.MaxMessageAttributes attributes is refused before anything is
// sent. The IDs, receipt handles, receive counts and sent times of msgs
// are ignored.
func (q *Queue) Send(ctx context.Context, msgs []babysitter.Message) error {
	if err := checkMessages(msgs); err != nil {
		return fmt.Errorf("sqs: send to %s: %w", q.name, err)
	}
	if len(msgs) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqs: send to %s: %w", q.name, err)
	}
	entries := make([]types.SendMessageBatchRequestEntry, len(msgs))
	sizes := make([]int, len(msgs))
	for i, m := range msgs {
		entries[i] = types.SendMessageBatchRequestEntry{
			// The index names the entry in the response and in errors.
			Id:                aws.String(strconv.Itoa(i)),
			MessageBody:       aws.String(string(m.Body)),
			MessageAttributes: toAttributes(m.Attributes),
		}
		sizes[i] = messageSize(m)
	}
	ends := batchEnds(sizes)
	type result struct {
		failed []FailedEntry
		err    error
	}
	results := make([]result, len(ends))
	sem := make(chan struct{}, q.sendConcurrency)
	var wg sync.WaitGroup
	start := 0
	for i, end := range ends {
		batch := entries[start:end]
		start = end
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			results[i].failed, results[i].err = q.sendBatch(ctx, batch)
		})
	}
	wg.Wait()
	var failed []FailedEntry
	var errs []error
	unsent, start := 0, 0
	for i, r := range results {
		if r.err != nil {
			errs = append(errs, r.err)
			unsent += ends[i] - start
		}
		failed = append(failed, r.failed...)
		start = ends[i]
	}
	var sendErr error
	if len(failed) > 0 {
		sendErr = &SendError{Queue: q.name, Total: len(msgs), Failed: failed}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w (%d of %d messages may not have been sent)", errors.Join(append(errs, sendErr)...), unsent+len(failed), len(msgs))
	}
	return sendErr
}

// checkMessages refuses what SQS would reject or the SDK would garble.
func checkMessages(msgs []babysitter.Message) error {
	for i, m := range msgs {
		switch {
		case len(m.Body) == 0:
			return fmt.Errorf("message %d has an empty body", i)
		case !utf8.Valid(m.Body):
			return fmt.Errorf("message %d: body is not valid UTF-8", i)
		case len(m.Attributes) > babysitter.MaxMessageAttributes:
			return fmt.Errorf("message %d has %d attributes, more than SQS's %d", i, len(m.Attributes), babysitter.MaxMessageAttributes)
		}
		for k, v := range m.Attributes {
			if k == "" || v == "" || !utf8.ValidString(k) || !utf8.ValidString(v) {
				return fmt.Errorf("message %d: attribute %q=%q: names and values must be non-empty UTF-8", i, k, v)
			}
		}
	}
	return nil
}

// toAttributes maps message attributes to SQS String attributes.
func toAttributes(attrs map[string]string) map[string]types.MessageAttributeValue {
	if len(attrs) == 0 {
		return nil
	}
	out := make(map[string]types.MessageAttributeValue, len(attrs))
	for k, v := range attrs {
		out[k] = types.MessageAttributeValue{DataType: aws.String(stringType), StringValue: aws.String(v)}
	}
	return out
}

// messageSize is a message's size as SQS counts it against the batch
// limit: the body plus each attribute's name, data type and value.
func messageSize(m babysitter.Message) int {
	n := len(m.Body)
	for k, v := range m.Attributes {
		n += len(k) + len(stringType) + len(v)
	}
	return n
}

// batchEnds splits messages of the given sizes, in order, into batches of
// at most maxBatchEntries entries and maxBatchBytes bytes, and returns the
// end index of each. A message too large for any batch goes alone, for the
// queue to judge.
func batchEnds(sizes []int) []int {
	var ends []int
	count, bytes := 0, 0
	for i, s := range sizes {
		if count > 0 && (count == maxBatchEntries || bytes+s > maxBatchBytes) {
			ends = append(ends, i)
			count, bytes = 0, 0
		}
		count++
		bytes += s
	}
	if count > 0 {
		ends = append(ends, len(sizes))
	}
	return ends
}

// sendBatch sends one batch and resends the entries the queue failed on its
// side until they succeed or run out of attempts. It returns the entries
// that were not sent in the end, or the error of a request that failed as a
// whole.
func (q *Queue) sendBatch(ctx context.Context, batch []types.SendMessageBatchRequestEntry) ([]FailedEntry, error) {
	pending := batch
	var failed []FailedEntry
	for attempt := 1; ; attempt++ {
		out, err := q.client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{
			QueueUrl: aws.String(q.url),
			Entries:  pending,
		})
		if err != nil {
			return nil, q.wrap(ctx, "send to", err)
		}
		// What the queue said about each entry; an entry it did not
		// mention counts as failed on its side.
		results := make(map[string]*types.BatchResultErrorEntry, len(pending))
		for _, e := range pending {
			results[*e.Id] = &types.BatchResultErrorEntry{
				Id: e.Id, Code: aws.String("NoResult"), Message: aws.String("the queue reported no result for this entry"),
			}
		}
		for _, s := range out.Successful {
			if id := aws.ToString(s.Id); results[id] != nil {
				delete(results, id)
			}
		}
		for _, f := range out.Failed {
			if id := aws.ToString(f.Id); slices.ContainsFunc(pending, func(e types.SendMessageBatchRequestEntry) bool { return *e.Id == id }) {
				results[id] = &f // a failure wins over a success for the same entry
			}
		}
		var retry []types.SendMessageBatchRequestEntry
		for _, e := range pending {
			r := results[*e.Id]
			if r == nil {
				continue // sent
			}
			if r.SenderFault || attempt >= q.maxSendAttempts {
				index, _ := strconv.Atoi(*e.Id)
				failed = append(failed, FailedEntry{
					Index:       index,
					Code:        aws.ToString(r.Code),
					Message:     aws.ToString(r.Message),
					SenderFault: r.SenderFault,
					Attempts:    attempt,
				})
				continue
			}
			retry = append(retry, e)
		}
		if len(retry) == 0 {
			slices.SortFunc(failed, func(a, b FailedEntry) int { return a.Index - b.Index })
			return failed, nil
		}
		if err := sleep(ctx, sendBackoff(attempt)); err != nil {
			return nil, fmt.Errorf("sqs: send to %s: %w", q.name, err)
		}
		pending = retry
	}
}

// sendBackoff is the wait after the given failed attempt (from 1): full
// jitter over an exponential window, so concurrent senders spread out.
func sendBackoff(attempt int) time.Duration {
	window := min(sendBackoffMin<<min(attempt-1, 10), sendBackoffMax)
	return window/2 + rand.N(window/2+1)
}

// sleep waits for d unless ctx ends first, and then returns its error.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ---- Source ----

// Receive waits up to the wait time (Options.WaitTime) for at most max
// messages (1–10) and returns what arrived, possibly none, with their
// receive counts (ApproximateReceiveCount) and sent times
// (SentTimestamp). Each is hidden for the
// visibility timeout. When ctx ends, Receive returns an error matching
// ctx's (errors.Is(err, context.Canceled)) at once; messages the queue had
// handed out by then come back after their visibility timeout.
func (q *Queue) Receive(ctx context.Context, max int) ([]babysitter.Message, error) {
	if max < 1 || max > maxBatchEntries {
		return nil, fmt.Errorf("sqs: receive from %s: max must be 1–%d, got %d", q.name, maxBatchEntries, max)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sqs: receive from %s: %w", q.name, err)
	}
	in := &sqs.ReceiveMessageInput{
		QueueUrl:              aws.String(q.url),
		MaxNumberOfMessages:   int32(max),
		WaitTimeSeconds:       q.wait,
		MessageAttributeNames: []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{
			types.MessageSystemAttributeNameApproximateReceiveCount,
			types.MessageSystemAttributeNameSentTimestamp,
		},
	}
	if q.visibility > 0 {
		in.VisibilityTimeout = q.visibility
	}
	out, err := q.client.ReceiveMessage(ctx, in)
	if err != nil {
		return nil, q.wrap(ctx, "receive from", err)
	}
	if len(out.Messages) == 0 {
		return nil, nil
	}
	msgs := make([]babysitter.Message, len(out.Messages))
	for i, m := range out.Messages {
		msgs[i] = fromSQS(m)
	}
	return msgs, nil
}

// fromSQS converts a received message.
func fromSQS(m types.Message) babysitter.Message {
	out := babysitter.Message{
		ID:            aws.ToString(m.MessageId),
		Body:          []byte(aws.ToString(m.Body)),
		ReceiptHandle: aws.ToString(m.ReceiptHandle),
	}
	out.ReceiveCount, _ = strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
	if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil && ms > 0 {
		out.SentAt = time.UnixMilli(ms)
	}
	for k, v := range m.MessageAttributes {
		if v.StringValue == nil { // Binary: nothing babysitter sends
			continue
		}
		if out.Attributes == nil {
			out.Attributes = make(map[string]string, len(m.MessageAttributes))
		}
		out.Attributes[k] = *v.StringValue
	}
	return out
}

// Delete deletes the messages by their receipt handles in
// DeleteMessageBatch requests of 10. Like SQS, deleting with the handle of
// an earlier delivery, or a message already deleted, is not an error here
// unless the queue says so. Entries the queue refuses are named in the
// returned error after every batch was tried; a request that fails as a
// whole (after the client's retries) stops Delete. A message without a
// receipt handle was never received: Delete then refuses the whole call.
func (q *Queue) Delete(ctx context.Context, msgs []babysitter.Message) error {
	for i, m := range msgs {
		if m.ReceiptHandle == "" {
			return fmt.Errorf("sqs: delete from %s: message %d (%q) has no receipt handle", q.name, i, m.ID)
		}
	}
	var failed []string
	for start := 0; start < len(msgs); start += maxBatchEntries {
		batch := msgs[start:min(start+maxBatchEntries, len(msgs))]
		entries := make([]types.DeleteMessageBatchRequestEntry, len(batch))
		for i, m := range batch {
			entries[i] = types.DeleteMessageBatchRequestEntry{
				Id:            aws.String(strconv.Itoa(start + i)),
				ReceiptHandle: aws.String(m.ReceiptHandle),
			}
		}
		out, err := q.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{
			QueueUrl: aws.String(q.url),
			Entries:  entries,
		})
		if err != nil {
			return q.wrap(ctx, "delete from", err)
		}
		for _, f := range out.Failed {
			i, err := strconv.Atoi(aws.ToString(f.Id))
			id := "?"
			if err == nil && i >= 0 && i < len(msgs) {
				id = msgs[i].ID
			}
			failed = append(failed, fmt.Sprintf("message %s: %s: %s", id, aws.ToString(f.Code), aws.ToString(f.Message)))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("sqs: delete from %s: %d of %d messages not deleted: %s", q.name, len(failed), len(msgs), strings.Join(failed, "; "))
	}
	return nil
}

// ChangeVisibility hides a received message for timeout from now, rounded
// up to whole seconds (SQS's unit; a Poller extending by 1.5s asks for 2s);
// 0 makes it visible at once. It fails for a receipt handle that no longer
// names an in-flight delivery.
func (q *Queue) ChangeVisibility(ctx context.Context, msg babysitter.Message, timeout time.Duration) error {
	if timeout < 0 || timeout > MaxVisibilityTimeout {
		return fmt.Errorf("sqs: change visibility in %s: timeout %v out of range 0–%v", q.name, timeout, MaxVisibilityTimeout)
	}
	if msg.ReceiptHandle == "" {
		return fmt.Errorf("sqs: change visibility in %s: message %q has no receipt handle", q.name, msg.ID)
	}
	_, err := q.client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl:          aws.String(q.url),
		ReceiptHandle:     aws.String(msg.ReceiptHandle),
		VisibilityTimeout: seconds(timeout),
	})
	if err != nil {
		return q.wrap(ctx, "change visibility in", err)
	}
	return nil
}

// Len reports the queue's approximate number of visible messages and of
// messages in flight or delayed (GetQueueAttributes). SQS's counts lag by
// up to a minute; emulators' do not. Tests use it to see a queue drain.
func (q *Queue) Len(ctx context.Context) (visible, notVisible int, err error) {
	out, err := q.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(q.url),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			types.QueueAttributeNameApproximateNumberOfMessagesDelayed,
		},
	})
	if err != nil {
		return 0, 0, q.wrap(ctx, "count messages in", err)
	}
	n := func(a types.QueueAttributeName) int {
		v, _ := strconv.Atoi(out.Attributes[string(a)])
		return v
	}
	return n(types.QueueAttributeNameApproximateNumberOfMessages),
		n(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible) + n(types.QueueAttributeNameApproximateNumberOfMessagesDelayed),
		nil
}

// ---- errors ----

// wrap is the one place SDK errors become this package's: a call cut short
// by ctx reports ctx's error; a missing queue matches ErrQueueNotFound;
// every other error keeps the SDK's error reachable with errors.As
// (smithy.APIError, *types.QueueDoesNotExist, *smithy.OperationError …).
// Throttling and 5xx responses arrive here only after the client's retryer
// gave up on them.
func (q *Queue) wrap(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("sqs: %s %s: %w", op, q.name, ctxErr)
	}
	return mapError(op+" "+q.name, err)
}

// mapError names the operation and marks a missing queue.
func mapError(what string, err error) error {
	if isQueueNotFound(err) {
		return fmt.Errorf("sqs: %s: %w: %w", what, ErrQueueNotFound, err)
	}
	return fmt.Errorf("sqs: %s: %w", what, err)
}

// isQueueNotFound recognizes SQS's missing-queue error, modeled or as the
// legacy query-protocol code that some servers still send.
func isQueueNotFound(err error) bool {
	var notFound *types.QueueDoesNotExist
	if errors.As(err, &notFound) {
		return true
	}
	var api smithy.APIError
	return errors.As(err, &api) && (api.ErrorCode() == "QueueDoesNotExist" || api.ErrorCode() == "AWS.SimpleQueueService.NonExistentQueue")
}

// ---- creating queues ----

// CreateQueue creates a standard queue named name and, when maxReceiveCount
// is positive, its dead-letter queue name+"-dlq" with a redrive policy: a
// message received maxReceiveCount times and still not deleted moves there.
// It returns both URLs (dlqURL is "" without a dead-letter queue). A
// positive visibility sets the queue's visibility timeout, rounded up to
// whole seconds; zero keeps SQS's default of 30s. The dead-letter queue
// keeps messages 14 days, SQS's maximum.
//
// It is meant for tests and local development; deployments declare their
// queues in a template. Like SQS's CreateQueue it is idempotent for the
// same attributes. client is a *sqs.Client or anything wrapping one (see
// CreateQueueAPI).
func CreateQueue(ctx context.Context, client CreateQueueAPI, name string, visibility time.Duration, maxReceiveCount int) (queueURL, dlqURL string, err error) {
	switch {
	case strings.HasSuffix(name, ".fifo"):
		return "", "", fmt.Errorf("sqs: create queue %q: FIFO queues are not supported", name)
	case visibility < 0 || visibility > MaxVisibilityTimeout:
		return "", "", fmt.Errorf("sqs: create queue %q: visibility timeout %v out of range 0–%v", name, visibility, MaxVisibilityTimeout)
	case maxReceiveCount < 0 || maxReceiveCount > 1000:
		return "", "", fmt.Errorf("sqs: create queue %q: maxReceiveCount %d out of range 0–1000", name, maxReceiveCount)
	}
	attrs := map[string]string{}
	if visibility > 0 {
		attrs[string(types.QueueAttributeNameVisibilityTimeout)] = strconv.Itoa(int(seconds(visibility)))
	}
	if maxReceiveCount > 0 {
		dlqName := name + "-dlq"
		out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{
			QueueName: aws.String(dlqName),
			Attributes: map[string]string{
				string(types.QueueAttributeNameMessageRetentionPeriod): strconv.Itoa(14 * 24 * 60 * 60),
			},
		})
		if err != nil {
			return "", "", mapError("create queue "+dlqName, err)
		}
		dlqURL = aws.ToString(out.QueueUrl)
		got, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl:       aws.String(dlqURL),
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
		})
		if err != nil {
			return "", "", mapError("get the ARN of "+dlqName, err)
		}
		arn := got.Attributes[string(types.QueueAttributeNameQueueArn)]
		if arn == "" {
			return "", "", fmt.Errorf("sqs: get the ARN of %s: no QueueArn attribute", dlqName)
		}
		policy, err := json.Marshal(struct {
			DeadLetterTargetArn string `json:"deadLetterTargetArn"`
			MaxReceiveCount     int    `json:"maxReceiveCount"`
		}{arn, maxReceiveCount})
		if err != nil {
			return "", "", fmt.Errorf("sqs: create queue %q: %w", name, err)
		}
		attrs[string(types.QueueAttributeNameRedrivePolicy)] = string(policy)
	}
	out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		return "", "", mapError("create queue "+name, err)
	}
	return aws.ToString(out.QueueUrl), dlqURL, nil
}
