// Package sns is the Amazon SNS backend of babysitter.Notifier: every
// notification is one message on one standard topic, so that email, SMS or
// push delivery — and any other consumer — is a subscription, not code
// here.
//
// # Message format
//
// The body is the notification's JSON (babysitter.Notification's tags:
// id, type, recipient, jobId, applicationId, at), a contract with
// subscribers pinned by a golden test. Three String message attributes
// travel with it:
//
//   - type: the notification type, for subscription filter policies
//     ({"type": ["declined", "jobCancelled"]});
//   - eventId: the notification's ID, which subscribers dedupe on;
//   - version: babysitter.NotificationVersion.
//
// A subscription with RawMessageDelivery gets the body as is and the
// attributes as SQS message attributes; without it, the SNS JSON envelope
// carries the body in "Message" and the attributes in "MessageAttributes".
//
// Round trips: N notifications take ⌈N/10⌉ PublishBatch calls (a
// notification is well under 1 KiB, so ten never approach the 256 KiB
// batch limit). Throttling and 5xx responses are retried by the SDK
// client's retryer; entries that SNS fails on its side (SenderFault false)
// are published again, and only those, up to MaxAttempts. SNS FIFO topics
// are not supported: delivery is at least once, deduplication is the
// subscribers' (by eventId).
//
// It passes notify/notifytest against fauxqs's SNS, observed through an
// SQS queue subscribed to the topic.
package sns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/babysitter-go/babysitter"
)

// Message attribute names.
const (
	AttrType    = "type"
	AttrEventID = "eventId"
	AttrVersion = "version"
)

const (
	// DefaultMaxAttempts bounds the attempts per notification whose batch
	// entry SNS failed on its side.
	DefaultMaxAttempts = 5
	// maxBatchEntries is SNS's limit on entries per PublishBatch.
	maxBatchEntries = 10
	// The wait before publishing failed entries again: from backoffMin,
	// doubling per attempt up to backoffMax, with jitter.
	backoffMin = 50 * time.Millisecond
	backoffMax = 2 * time.Second
)

// API is the part of the SNS client a Notifier calls; *sns.Client
// implements it, and so does a wrapped or instrumented client.
type API interface {
	PublishBatch(ctx context.Context, in *sns.PublishBatchInput, optFns ...func(*sns.Options)) (*sns.PublishBatchOutput, error)
}

var _ API = (*sns.Client)(nil)

// Options configure a Notifier; the zero value is ready.
type Options struct {
	// MaxAttempts bounds how many times a notification whose entry SNS
	// failed on its side is published; default DefaultMaxAttempts.
	// Entries failed as the sender's fault are not retried.
	MaxAttempts int
}

// Notifier publishes to one SNS topic. It is safe for concurrent use.
type Notifier struct {
	client      API
	topicARN    string
	maxAttempts int
}

var _ babysitter.Notifier = (*Notifier)(nil)

// New returns a Notifier publishing to the standard topic topicARN through
// client, which carries the region, credentials, endpoint and retry
// policy.
func New(client API, topicARN string, opts Options) *Notifier {
	n := &Notifier{client: client, topicARN: topicARN, maxAttempts: opts.MaxAttempts}
	if n.maxAttempts <= 0 {
		n.maxAttempts = DefaultMaxAttempts
	}
	return n
}

// FailedEntry is a notification that was not published in the end.
type FailedEntry struct {
	ID          string // the notification's
	Code        string
	Message     string
	SenderFault bool
	Attempts    int
}

// PublishError lists the notifications of a Notify call that SNS refused.
// Every other notification was published.
type PublishError struct {
	Topic  string
	Total  int
	Failed []FailedEntry
}

// Error implements the error interface.
func (e *PublishError) Error() string {
	parts := make([]string, len(e.Failed))
	for i, f := range e.Failed {
		parts[i] = fmt.Sprintf("%s: %s: %s (after %d attempts)", f.ID, f.Code, f.Message, f.Attempts)
	}
	return fmt.Sprintf("sns: publish to %s: %d of %d notifications failed: %s", e.Topic, len(e.Failed), e.Total, strings.Join(parts, "; "))
}

// Notify implements babysitter.Notifier: it checks every notification,
// then publishes them in PublishBatch calls of 10, one batch after
// another, retrying only the entries SNS failed on its side. Every batch
// is tried even if one fails; the error then says which notifications
// may not have been published (a *PublishError, or a request's error).
func (n *Notifier) Notify(ctx context.Context, ns []babysitter.Notification) error {
	if err := babysitter.CheckNotifications(ns); err != nil {
		return fmt.Errorf("sns: notify: %w", err)
	}
	var errs []error
	var failed []FailedEntry
	for start := 0; start < len(ns); start += maxBatchEntries {
		batch := ns[start:min(start+maxBatchEntries, len(ns))]
		f, err := n.publish(ctx, batch)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("sns: publish to %s: %d of %d notifications may not have been published: %w", n.topicARN, len(ns)-start, len(ns), ctx.Err())
			}
			errs = append(errs, err)
		}
		failed = append(failed, f...)
	}
	if len(failed) > 0 {
		errs = append(errs, &PublishError{Topic: n.topicARN, Total: len(ns), Failed: failed})
	}
	return errors.Join(errs...)
}

// entry encodes one notification as a batch entry whose Id is its index
// in the batch.
func entry(i int, x babysitter.Notification) types.PublishBatchRequestEntry {
	body, _ := json.Marshal(x) // strings and a time always marshal
	str := func(v string) types.MessageAttributeValue {
		return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	return types.PublishBatchRequestEntry{
		Id:      aws.String(strconv.Itoa(i)),
		Message: aws.String(string(body)),
		MessageAttributes: map[string]types.MessageAttributeValue{
			AttrType:    str(string(x.Type)),
			AttrEventID: str(x.ID),
			AttrVersion: str(babysitter.NotificationVersion),
		},
	}
}

// publish publishes one batch and publishes again the entries SNS failed
// on its side until they succeed or run out of attempts. It returns the
// entries not published in the end, or the error of a request that failed
// as a whole.
func (n *Notifier) publish(ctx context.Context, batch []babysitter.Notification) ([]FailedEntry, error) {
	pending := make([]types.PublishBatchRequestEntry, len(batch))
	for i, x := range batch {
		pending[i] = entry(i, x)
	}
	var failed []FailedEntry
	for attempt := 1; ; attempt++ {
		out, err := n.client.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: aws.String(n.topicARN), PublishBatchRequestEntries: pending})
		if err != nil {
			return failed, fmt.Errorf("sns: publish %d notifications to %s: %w", len(pending), n.topicARN, err)
		}
		// An entry SNS did not report on counts as failed on its side.
		outcome := map[string]*types.BatchResultErrorEntry{}
		pendingIDs := map[string]bool{}
		for _, e := range pending {
			pendingIDs[*e.Id] = true
			outcome[*e.Id] = &types.BatchResultErrorEntry{Code: aws.String("NoResult"), Message: aws.String("SNS reported no result for this entry")}
		}
		for _, s := range out.Successful {
			delete(outcome, aws.ToString(s.Id))
		}
		for _, f := range out.Failed {
			if id := aws.ToString(f.Id); pendingIDs[id] {
				outcome[id] = &f // a failure wins over a success for the same entry
			}
		}
		var retry []types.PublishBatchRequestEntry
		for _, e := range pending {
			r, ok := outcome[*e.Id]
			switch {
			case !ok:
				continue // published
			case r.SenderFault || attempt >= n.maxAttempts:
				i, _ := strconv.Atoi(*e.Id)
				failed = append(failed, FailedEntry{ID: batch[i].ID, Code: aws.ToString(r.Code), Message: aws.ToString(r.Message), SenderFault: r.SenderFault, Attempts: attempt})
			default:
				retry = append(retry, e)
			}
		}
		if len(retry) == 0 {
			return failed, nil
		}
		select {
		case <-ctx.Done():
			return failed, ctx.Err()
		case <-time.After(backoff(attempt)):
		}
		pending = retry
	}
}

// backoff is the wait after the given failed attempt (from 1): full
// jitter over an exponential window.
func backoff(attempt int) time.Duration {
	window := min(backoffMin<<min(attempt-1, 10), backoffMax)
	return window/2 + rand.N(window/2+1)
}
