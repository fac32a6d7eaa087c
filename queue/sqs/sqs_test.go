package sqs_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-cmp/cmp"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/internal/testenv"
	"github.com/babysitter-go/babysitter/queue/queuetest"
	sqsqueue "github.com/babysitter-go/babysitter/queue/sqs"
	"github.com/babysitter-go/babysitter/queue/sqs/sqstest"
)

// wait is the long poll of the test queues: short, so that a receive on an
// empty queue costs about a second.
const wait = time.Second

// TestConformance runs the shared queue suite against fauxqs, each case on
// a fresh queue (and dead-letter queue) with the SDK's default retryer.
func TestConformance(t *testing.T) {
	client := testenv.SQSClient(t)
	queuetest.Run(t, queuetest.Harness{
		New: func(t *testing.T, visibility time.Duration, maxReceive int) (queuetest.QueueSource, babysitter.Source) {
			q, dlq := newQueue(t, client, visibility, maxReceive, sqsqueue.Options{WaitTime: wait})
			if dlq == nil {
				return q, nil // not a typed nil inside the interface
			}
			return q, dlq
		},
	})
}

// newQueue creates a fresh queue (and its dead-letter queue when maxReceive
// is positive), deleted when the test ends.
func newQueue(t *testing.T, client *sqs.Client, visibility time.Duration, maxReceive int, opts sqsqueue.Options) (q, dlq *sqsqueue.Queue) {
	t.Helper()
	url, dlqURL, err := sqsqueue.CreateQueue(t.Context(), client, testenv.UniqueName(t, "q"), visibility, maxReceive)
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	t.Cleanup(func() {
		for _, u := range []string{url, dlqURL} {
			if u != "" {
				_, _ = client.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(u)})
			}
		}
	})
	q = sqsqueue.New(client, url, opts)
	if dlqURL != "" {
		dlq = sqsqueue.New(client, dlqURL, sqsqueue.Options{WaitTime: wait})
	}
	return q, dlq
}

// messages returns n messages with distinct bodies prefix-0, prefix-1 …
func messages(prefix string, n int) []babysitter.Message {
	msgs := make([]babysitter.Message, n)
	for i := range msgs {
		msgs[i] = babysitter.Message{
			Body:       fmt.Appendf(nil, "%s-%d", prefix, i),
			Attributes: map[string]string{"seq": fmt.Sprint(i)},
		}
	}
	return msgs
}

func bodies(msgs []babysitter.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = string(m.Body)
	}
	return out
}

// receiveAll receives and deletes until want distinct messages arrived,
// then checks that nothing more arrives within one more long poll, and
// returns how many times each body was received.
func receiveAll(t *testing.T, q *sqsqueue.Queue, want int) map[string]int {
	t.Helper()
	seen := map[string]int{}
	deadline := time.Now().Add(30 * time.Second)
	for len(seen) < want {
		if time.Now().After(deadline) {
			t.Fatalf("received %d of %d messages in 30s", len(seen), want)
		}
		got, err := q.Receive(t.Context(), 10)
		if err != nil {
			t.Fatalf("Receive: %v", err)
		}
		for _, m := range got {
			seen[string(m.Body)]++
		}
		if len(got) > 0 {
			if err := q.Delete(t.Context(), got); err != nil {
				t.Fatalf("Delete: %v", err)
			}
		}
	}
	got, err := q.Receive(t.Context(), 10)
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	for _, m := range got {
		seen[string(m.Body)]++
	}
	return seen
}

// exactlyOnce fails the test unless every body in want was received once
// and nothing else was.
func exactlyOnce(t *testing.T, want []string, seen map[string]int) {
	t.Helper()
	wantSeen := map[string]int{}
	for _, b := range want {
		wantSeen[b] = 1
	}
	if d := cmp.Diff(wantSeen, seen); d != "" {
		t.Errorf("deliveries per body (-want +got):\n%s", d)
	}
}

// counted returns a client that counts its calls, with more options.
func counted(t *testing.T, calls *sqstest.CallCounter, opts ...func(*sqs.Options)) *sqs.Client {
	return testenv.SQSClient(t, append(opts, func(o *sqs.Options) {
		o.APIOptions = append(o.APIOptions, calls.Register)
	})...)
}

// TestSendBatches checks the round-trip contract: N small messages take
// ⌈N/10⌉ SendMessageBatch calls, in order; large ones are split to keep
// each batch under 256 KiB.
func TestSendBatches(t *testing.T) {
	t.Parallel()
	var calls sqstest.CallCounter
	client := counted(t, &calls)

	t.Run("25 messages", func(t *testing.T) {
		q, _ := newQueue(t, client, 30*time.Second, 0, sqsqueue.Options{SendConcurrency: 1, WaitTime: wait})
		msgs := messages("m", 25)
		calls.Reset()
		if err := q.Send(t.Context(), msgs); err != nil {
			t.Fatalf("Send: %v", err)
		}
		want := [][]string{bodies(msgs[:10]), bodies(msgs[10:20]), bodies(msgs[20:])}
		if d := cmp.Diff(want, calls.Batches()); d != "" {
			t.Errorf("SendMessageBatch calls (-want +got):\n%s", d)
		}
		if got := calls.Calls(); got["SendMessageBatch"] != 3 || len(got) != 1 {
			t.Errorf("calls %s, want SendMessageBatch=3 only", calls.String())
		}
		exactlyOnce(t, bodies(msgs), receiveAll(t, q, 25))
	})

	t.Run("256 KiB per batch", func(t *testing.T) {
		q, _ := newQueue(t, client, 30*time.Second, 0, sqsqueue.Options{SendConcurrency: 1, WaitTime: wait})
		// 10 messages of 30 KiB: 8 fit in 256 KiB, then 2.
		msgs := make([]babysitter.Message, 10)
		for i := range msgs {
			msgs[i] = babysitter.Message{Body: []byte(fmt.Sprintf("%02d", i) + strings.Repeat("x", 30<<10-2))}
		}
		calls.Reset()
		if err := q.Send(t.Context(), msgs); err != nil {
			t.Fatalf("Send: %v", err)
		}
		var sizes []int
		for _, b := range calls.Batches() {
			sizes = append(sizes, len(b))
		}
		if !slices.Equal(sizes, []int{8, 2}) {
			t.Errorf("batch sizes %v, want [8 2]", sizes)
		}
		exactlyOnce(t, bodies(msgs), receiveAll(t, q, 10))
	})
}

// TestSendConcurrently: with the default SendConcurrency the ⌈N/10⌉
// batches go out at once, and each message still arrives exactly once.
func TestSendConcurrently(t *testing.T) {
	t.Parallel()
	var calls sqstest.CallCounter
	var inflight, peak atomic.Int32
	// Each request lingers 20ms in the client, so batches sent together
	// overlap and the peak shows it.
	overlap := func(stack *middleware.Stack) error {
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("inflight", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			if awsmiddleware.GetOperationName(ctx) == "SendMessageBatch" {
				n := inflight.Add(1)
				defer inflight.Add(-1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				time.Sleep(20 * time.Millisecond)
			}
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
	}
	client := counted(t, &calls, func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, overlap) })
	q, _ := newQueue(t, client, 30*time.Second, 0, sqsqueue.Options{WaitTime: wait})
	msgs := messages("m", 95)
	if err := q.Send(t.Context(), msgs); err != nil {
		t.Fatalf("Send: %v", err)
	}
	var want, got [][]string
	for i := 0; i < len(msgs); i += 10 {
		want = append(want, bodies(msgs[i:min(i+10, len(msgs))]))
	}
	got = calls.Batches()
	less := func(a, b []string) int { return strings.Compare(a[0], b[0]) }
	slices.SortFunc(want, less)
	slices.SortFunc(got, less)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("SendMessageBatch batches, in any order (-want +got):\n%s", d)
	}
	if p := peak.Load(); p < 2 || p > sqsqueue.DefaultSendConcurrency {
		t.Errorf("peak SendMessageBatch requests in flight = %d, want 2..%d", p, sqsqueue.DefaultSendConcurrency)
	}
	exactlyOnce(t, bodies(msgs), receiveAll(t, q, 95))
}

// TestSendRetriesOnlyFailedEntries: entries the queue fails on its side are
// resent alone, as often as they fail (within the attempt bound), and
// every message arrives exactly once.
func TestSendRetriesOnlyFailedEntries(t *testing.T) {
	t.Parallel()
	var calls sqstest.CallCounter
	var faults sqstest.EntryFaults
	client := counted(t, &calls, func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, faults.Register) })
	q, _ := newQueue(t, client, 30*time.Second, 0, sqsqueue.Options{SendConcurrency: 1, WaitTime: wait})
	msgs := messages("m", 25)
	faults.Fail("m-3", 1, false)
	faults.Fail("m-7", 2, false)
	faults.Fail("m-12", 1, false)
	if err := q.Send(t.Context(), msgs); err != nil {
		t.Fatalf("Send: %v", err)
	}
	want := [][]string{
		bodies(msgs[:10]), {"m-3", "m-7"}, {"m-7"},
		bodies(msgs[10:20]), {"m-12"},
		bodies(msgs[20:]),
	}
	if d := cmp.Diff(want, calls.Batches()); d != "" {
		t.Errorf("SendMessageBatch calls (-want +got):\n%s", d)
	}
	if n := faults.Injected(); n != 4 {
		t.Errorf("%d entry failures injected, want 4", n)
	}
	exactlyOnce(t, bodies(msgs), receiveAll(t, q, 25))
}

// TestSendGivesUp: an entry the queue fails on every attempt is sent at
// most MaxSendAttempts times, then reported by index; the others arrive.
func TestSendGivesUp(t *testing.T) {
	t.Parallel()
	var calls sqstest.CallCounter
	var faults sqstest.EntryFaults
	client := counted(t, &calls, func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, faults.Register) })
	q, _ := newQueue(t, client, 30*time.Second, 0, sqsqueue.Options{SendConcurrency: 1, WaitTime: wait, MaxSendAttempts: 3})
	msgs := messages("m", 12)
	faults.Fail("m-5", -1, false)
	err := q.Send(t.Context(), msgs)
	var se *sqsqueue.SendError
	if !errors.As(err, &se) {
		t.Fatalf("Send = %v, want a *SendError", err)
	}
	want := []sqsqueue.FailedEntry{{Index: 5, Code: "InternalError", Message: "sqstest: injected entry failure", Attempts: 3}}
	if d := cmp.Diff(want, se.Failed); d != "" || se.Total != 12 {
		t.Errorf("SendError %+v (-want +got failed):\n%s", se, d)
	}
	if !strings.Contains(err.Error(), "message 5: InternalError") {
		t.Errorf("error %q does not name message 5", err)
	}
	wantCalls := [][]string{bodies(msgs[:10]), {"m-5"}, {"m-5"}, bodies(msgs[10:])}
	if d := cmp.Diff(wantCalls, calls.Batches()); d != "" {
		t.Errorf("SendMessageBatch calls (-want +got):\n%s", d)
	}
	exactlyOnce(t, slices.Delete(bodies(msgs), 5, 6), receiveAll(t, q, 11))
}

// TestSendSenderFaultNotRetried: fauxqs, like SQS, fails an entry whose
// body has characters SQS does not allow as the sender's fault. Send does
// not resend it, sends the rest, and names it in its error.
func TestSendSenderFaultNotRetried(t *testing.T) {
	t.Parallel()
	var calls sqstest.CallCounter
	client := counted(t, &calls)
	q, _ := newQueue(t, client, 30*time.Second, 0, sqsqueue.Options{SendConcurrency: 1, WaitTime: wait})
	msgs := messages("m", 12)
	msgs[4].Body = []byte("bad \x01 body")
	err := q.Send(t.Context(), msgs)
	var se *sqsqueue.SendError
	if !errors.As(err, &se) || len(se.Failed) != 1 {
		t.Fatalf("Send = %v, want a *SendError with one entry", err)
	}
	if f := se.Failed[0]; f.Index != 4 || !f.SenderFault || f.Attempts != 1 || f.Code == "" {
		t.Errorf("failed entry %+v, want index 4, sender fault, 1 attempt, a code", f)
	}
	if n := calls.Calls()["SendMessageBatch"]; n != 2 {
		t.Errorf("%d SendMessageBatch calls, want 2 (no resend)", n)
	}
	t.Logf("error: %v", err)
	exactlyOnce(t, slices.Delete(bodies(msgs), 4, 5), receiveAll(t, q, 11))
}

// TestTransientErrorsRetried injects throttling and 5xx responses into the
// first attempts of every SQS call: the SDK's retryer retries them, and no
// message is lost or doubled.
func TestTransientErrorsRetried(t *testing.T) {
	t.Parallel()
	ops := []string{"SendMessageBatch", "ReceiveMessage", "DeleteMessageBatch", "ChangeMessageVisibility", "GetQueueAttributes"}
	for _, kind := range []struct {
		name string
		kind sqstest.Kind
	}{{"throttling", sqstest.Throttle}, {"503", sqstest.ServerError}} {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			var calls sqstest.CallCounter
			var faults sqstest.Faults
			client := counted(t, &calls, sqstest.FastRetries(3), func(o *sqs.Options) {
				o.APIOptions = append(o.APIOptions, faults.Register)
			})
			q, _ := newQueue(t, client, 30*time.Second, 0, sqsqueue.Options{WaitTime: wait})
			for _, op := range ops {
				faults.Fail(op, 2, sqstest.Fault{Kind: kind.kind, When: sqstest.BeforeSend})
			}
			msgs := messages("m", 25)
			calls.Reset()
			if err := q.Send(t.Context(), msgs); err != nil {
				t.Fatalf("Send: %v", err)
			}
			// 2 injected faults, 2 more attempts; at least, since a loaded
			// machine may add a retry of its own.
			if c, a := calls.Calls()["SendMessageBatch"], calls.Attempts()["SendMessageBatch"]; c != 3 || a < 5 {
				t.Errorf("SendMessageBatch: %d calls, %d attempts; want 3 calls, at least 5 attempts (2 retried faults)", c, a)
			}
			// A visibility change on the way, with its own faults.
			first, err := q.Receive(t.Context(), 1)
			if err != nil || len(first) != 1 {
				t.Fatalf("Receive = %d, %v", len(first), err)
			}
			if err := q.ChangeVisibility(t.Context(), first[0], 0); err != nil {
				t.Fatalf("ChangeVisibility: %v", err)
			}
			exactlyOnce(t, bodies(msgs), receiveAll(t, q, 25))
			if v, nv, err := q.Len(t.Context()); err != nil || v+nv != 0 {
				t.Errorf("Len = %d, %d, %v; want an empty queue", v, nv, err)
			}
			for _, op := range ops {
				if n := faults.Injected(op); n != 2 {
					t.Errorf("%s: %d faults injected, want 2", op, n)
				}
			}
		})
	}

	// A ReceiveMessage whose response is lost after the server handed out
	// the messages: they stay hidden for their visibility timeout and then
	// come back; none is lost.
	t.Run("lost receive response", func(t *testing.T) {
		t.Parallel()
		var faults sqstest.Faults
		client := testenv.SQSClient(t, sqstest.FastRetries(3), func(o *sqs.Options) {
			o.APIOptions = append(o.APIOptions, faults.Register)
		})
		q, _ := newQueue(t, client, time.Second, 0, sqsqueue.Options{WaitTime: wait})
		msgs := messages("m", 5)
		if err := q.Send(t.Context(), msgs); err != nil {
			t.Fatalf("Send: %v", err)
		}
		faults.Fail("ReceiveMessage", 1, sqstest.Fault{Kind: sqstest.ServerError, When: sqstest.AfterCommit})
		seen := receiveAll(t, q, 5)
		exactlyOnce(t, bodies(msgs), seen)
		if faults.Injected("ReceiveMessage") != 1 {
			t.Errorf("fault not injected")
		}
	})

	// A SendMessageBatch whose response is lost after the server stored
	// the messages: the SDK's retry sends them again. Standard SQS queues
	// are at-least-once; the consumer's idempotence absorbs the copies.
	// Nothing is lost.
	t.Run("lost send response", func(t *testing.T) {
		t.Parallel()
		var faults sqstest.Faults
		client := testenv.SQSClient(t, sqstest.FastRetries(3), func(o *sqs.Options) {
			o.APIOptions = append(o.APIOptions, faults.Register)
		})
		q, _ := newQueue(t, client, 30*time.Second, 0, sqsqueue.Options{WaitTime: wait})
		msgs := messages("m", 4)
		faults.Fail("SendMessageBatch", 1, sqstest.Fault{Kind: sqstest.ServerError, When: sqstest.AfterCommit})
		if err := q.Send(t.Context(), msgs); err != nil {
			t.Fatalf("Send: %v", err)
		}
		seen := map[string]int{}
		for deadline := time.Now().Add(10 * time.Second); len(seen) < 4 || sum(seen) < 8; {
			if time.Now().After(deadline) {
				break
			}
			got, err := q.Receive(t.Context(), 10)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range got {
				seen[string(m.Body)]++
			}
		}
		want := map[string]int{"m-0": 2, "m-1": 2, "m-2": 2, "m-3": 2}
		if d := cmp.Diff(want, seen); d != "" {
			t.Errorf("deliveries per body (-want +got):\n%s", d)
		}
	})

	// When the faults outlast the retryer, the error says so and keeps the
	// SQS error reachable.
	t.Run("retries exhausted", func(t *testing.T) {
		t.Parallel()
		var faults sqstest.Faults
		client := testenv.SQSClient(t, sqstest.FastRetries(3), func(o *sqs.Options) {
			o.APIOptions = append(o.APIOptions, faults.Register)
		})
		q, _ := newQueue(t, client, 30*time.Second, 0, sqsqueue.Options{WaitTime: wait})
		faults.Fail("SendMessageBatch", 3, sqstest.Fault{Kind: sqstest.Throttle})
		err := q.Send(t.Context(), messages("m", 3))
		var throttled *types.RequestThrottled
		var op *smithy.OperationError
		if !errors.As(err, &throttled) || !errors.As(err, &op) {
			t.Fatalf("Send = %v, want a RequestThrottled inside an OperationError", err)
		}
		if !strings.Contains(err.Error(), "3 of 3 messages may not have been sent") {
			t.Errorf("error %q does not say what was not sent", err)
		}
		if faults.Injected("SendMessageBatch") != 3 {
			t.Errorf("%d faults injected, want 3", faults.Injected("SendMessageBatch"))
		}
	})
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestAttributes: message attributes travel as String attributes and come
// back unchanged with the type and version of a decline message; a foreign
// producer's Number attribute reads as its string, a Binary one is left out.
func TestAttributes(t *testing.T) {
	t.Parallel()
	var sent, received []map[string]types.MessageAttributeValue
	wire := func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("capture",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				if p, ok := in.Parameters.(*sqs.SendMessageBatchInput); ok {
					for _, e := range p.Entries {
						sent = append(sent, e.MessageAttributes)
					}
				}
				if r, ok := out.Result.(*sqs.ReceiveMessageOutput); ok && err == nil {
					for _, m := range r.Messages {
						received = append(received, m.MessageAttributes)
					}
				}
				return out, md, err
			}), middleware.Before)
	}
	client := testenv.SQSClient(t, func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, wire) })
	q, _ := newQueue(t, client, 30*time.Second, 0, sqsqueue.Options{WaitTime: wait})

	decline := babysitter.DeclineMessage("job-1")
	if err := q.Send(t.Context(), []babysitter.Message{decline}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got, err := q.Receive(t.Context(), 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("Receive = %d, %v", len(got), err)
	}
	if d := cmp.Diff(decline.Attributes, got[0].Attributes); d != "" {
		t.Errorf("attributes (-sent +received):\n%s", d)
	}
	if string(got[0].Body) != string(decline.Body) || got[0].ReceiveCount != 1 || got[0].ID == "" {
		t.Errorf("received %+v", got[0])
	}
	for _, attrs := range append(sent, received...) {
		for k, v := range attrs {
			if aws.ToString(v.DataType) != "String" {
				t.Errorf("attribute %s has DataType %q on the wire, want String", k, aws.ToString(v.DataType))
			}
		}
	}
	if len(sent) != 1 || len(received) != 1 {
		t.Errorf("captured %d sent and %d received attribute sets, want 1 and 1", len(sent), len(received))
	}

	// Another producer's message.
	_, err = client.SendMessage(t.Context(), &sqs.SendMessageInput{
		QueueUrl:    aws.String(q.URL()),
		MessageBody: aws.String("foreign"),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"n":   {DataType: aws.String("Number"), StringValue: aws.String("42")},
			"bin": {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2, 3}},
			"s":   {DataType: aws.String("String.custom"), StringValue: aws.String("x")},
		},
	})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	got, err = q.Receive(t.Context(), 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("Receive = %d, %v", len(got), err)
	}
	if d := cmp.Diff(map[string]string{"n": "42", "s": "x"}, got[0].Attributes); d != "" {
		t.Errorf("foreign attributes (-want +got):\n%s", d)
	}
}

// TestQueueNotFound: every call on a missing queue fails with
// ErrQueueNotFound, the SDK's error still reachable.
func TestQueueNotFound(t *testing.T) {
	t.Parallel()
	client := testenv.SQSClient(t)
	q, _ := newQueue(t, client, 30*time.Second, 0, sqsqueue.Options{WaitTime: wait})
	if _, err := client.DeleteQueue(t.Context(), &sqs.DeleteQueueInput{QueueUrl: aws.String(q.URL())}); err != nil {
		t.Fatalf("DeleteQueue: %v", err)
	}
	msg := babysitter.Message{ID: "x", ReceiptHandle: "rh"}
	calls := map[string]func() error{
		"Send":             func() error { return q.Send(t.Context(), messages("m", 1)) },
		"Receive":          func() error { _, err := q.Receive(t.Context(), 1); return err },
		"Delete":           func() error { return q.Delete(t.Context(), []babysitter.Message{msg}) },
		"ChangeVisibility": func() error { return q.ChangeVisibility(t.Context(), msg, time.Second) },
		"Len":              func() error { _, _, err := q.Len(t.Context()); return err },
	}
	for name, call := range calls {
		err := call()
		var api smithy.APIError
		if !errors.Is(err, sqsqueue.ErrQueueNotFound) || !errors.As(err, &api) {
			t.Errorf("%s on a deleted queue: %v; want ErrQueueNotFound wrapping the API error", name, err)
			continue
		}
		var notExist *types.QueueDoesNotExist
		if !errors.As(err, &notExist) {
			t.Logf("%s: API error %T %q is not *types.QueueDoesNotExist", name, api, api.ErrorCode())
		}
	}
}

// TestCreateQueueAttributes: CreateQueue sets the visibility timeout in
// whole seconds and a redrive policy to the dead-letter queue (which the
// conformance suite's DeadLetterAfterMaxReceive exercises), and refuses
// what it cannot create.
func TestCreateQueueAttributes(t *testing.T) {
	t.Parallel()
	client := testenv.SQSClient(t)
	q, dlq := newQueue(t, client, 1500*time.Millisecond, 5, sqsqueue.Options{})
	out, err := client.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(q.URL()),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll},
	})
	if err != nil {
		t.Fatal(err)
	}
	if v := out.Attributes["VisibilityTimeout"]; v != "2" {
		t.Errorf("VisibilityTimeout %q, want 2 (1.5s rounded up)", v)
	}
	policy := out.Attributes["RedrivePolicy"]
	if !strings.Contains(policy, `"maxReceiveCount":5`) || !strings.Contains(policy, "-dlq") {
		t.Errorf("RedrivePolicy %q", policy)
	}
	if dlq == nil || !strings.HasSuffix(dlq.URL(), "-dlq") {
		t.Errorf("dead-letter queue %v", dlq)
	}
	for _, bad := range []struct {
		name       string
		visibility time.Duration
		max        int
	}{{"x.fifo", 0, 0}, {"x", -time.Second, 0}, {"x", 0, -1}, {"x", 0, 1001}} {
		if _, _, err := sqsqueue.CreateQueue(t.Context(), client, bad.name, bad.visibility, bad.max); err == nil {
			t.Errorf("CreateQueue(%q, %v, %d) succeeded", bad.name, bad.visibility, bad.max)
		}
	}
}
