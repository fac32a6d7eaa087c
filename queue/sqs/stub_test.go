package sqs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-cmp/cmp"

	"github.com/babysitter-go/babysitter"
	sqsqueue "github.com/babysitter-go/babysitter/queue/sqs"
)

// These tests need no server: a stub middleware answers every call in
// process, so they check the requests the Queue builds and how it reads
// responses that fauxqs never produces (failed deletes, say).

// stub is an SQS client whose calls are answered by answer, never sent.
type stub struct {
	mu     sync.Mutex
	inputs []any
	answer func(in any) (any, error)
}

func (s *stub) client() *sqs.Client {
	return sqs.New(sqs.Options{
		Region:       "us-east-1",
		Credentials:  aws.AnonymousCredentials{},
		BaseEndpoint: aws.String("http://127.0.0.1:9"), // never dialled
		APIOptions: []func(*middleware.Stack) error{func(stack *middleware.Stack) error {
			return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("stub",
				func(ctx context.Context, in middleware.InitializeInput, _ middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					s.mu.Lock()
					s.inputs = append(s.inputs, in.Parameters)
					s.mu.Unlock()
					out, err := s.answer(in.Parameters)
					return middleware.InitializeOutput{Result: out}, middleware.Metadata{}, err
				}), middleware.Before)
		}},
	})
}

// ok answers every call with an empty success.
func ok(in any) (any, error) {
	switch p := in.(type) {
	case *sqs.ReceiveMessageInput:
		return &sqs.ReceiveMessageOutput{}, nil
	case *sqs.ChangeMessageVisibilityInput:
		return &sqs.ChangeMessageVisibilityOutput{}, nil
	case *sqs.DeleteMessageBatchInput:
		out := &sqs.DeleteMessageBatchOutput{}
		for _, e := range p.Entries {
			out.Successful = append(out.Successful, types.DeleteMessageBatchResultEntry{Id: e.Id})
		}
		return out, nil
	case *sqs.SendMessageBatchInput:
		out := &sqs.SendMessageBatchOutput{}
		for _, e := range p.Entries {
			out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: e.Id, MessageId: aws.String("id-" + *e.Id)})
		}
		return out, nil
	}
	return nil, fmt.Errorf("stub: unexpected %T", in)
}

// TestReceiveRequest: the wait and visibility options become whole
// seconds within SQS's limits, and every receive asks for all message
// attributes and the receive count.
func TestReceiveRequest(t *testing.T) {
	cases := []struct {
		opts                sqsqueue.Options
		wait, visibility    int32
		visibilityUnchanged bool
	}{
		{opts: sqsqueue.Options{}, wait: 20},
		{opts: sqsqueue.Options{WaitTime: 500 * time.Millisecond}, wait: 1},
		{opts: sqsqueue.Options{WaitTime: 3 * time.Second, VisibilityTimeout: 1500 * time.Millisecond}, wait: 3, visibility: 2},
		{opts: sqsqueue.Options{WaitTime: time.Minute, VisibilityTimeout: 13 * time.Hour}, wait: 20, visibility: 43200},
		{opts: sqsqueue.Options{WaitTime: -1}, wait: 0},
	}
	for _, c := range cases {
		s := &stub{answer: ok}
		q := sqsqueue.New(s.client(), "http://sqs.us-east-1.localhost/000000000000/q", c.opts)
		if _, err := q.Receive(t.Context(), 7); err != nil {
			t.Fatalf("Receive: %v", err)
		}
		in := s.inputs[0].(*sqs.ReceiveMessageInput)
		if in.WaitTimeSeconds != c.wait || in.VisibilityTimeout != c.visibility || in.MaxNumberOfMessages != 7 {
			t.Errorf("%+v: wait %d, visibility %d, max %d; want %d, %d, 7", c.opts, in.WaitTimeSeconds, in.VisibilityTimeout, in.MaxNumberOfMessages, c.wait, c.visibility)
		}
		if d := cmp.Diff([]string{"All"}, in.MessageAttributeNames); d != "" {
			t.Errorf("MessageAttributeNames: %s", d)
		}
		wantSystem := []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount, types.MessageSystemAttributeNameSentTimestamp}
		if d := cmp.Diff(wantSystem, in.MessageSystemAttributeNames); d != "" {
			t.Errorf("MessageSystemAttributeNames: %s", d)
		}
	}
}

// TestChangeVisibilityRoundsUp: sub-second timeouts round up to the next
// whole second (a Poller extending by 1.5s must not get 1s); 0 stays 0.
func TestChangeVisibilityRoundsUp(t *testing.T) {
	s := &stub{answer: ok}
	q := sqsqueue.New(s.client(), "q", sqsqueue.Options{})
	msg := babysitter.Message{ID: "m", ReceiptHandle: "rh"}
	for _, c := range []struct {
		d    time.Duration
		want int32
	}{{0, 0}, {time.Nanosecond, 1}, {time.Second, 1}, {1500 * time.Millisecond, 2}, {30 * time.Second, 30}, {12 * time.Hour, 43200}} {
		s.inputs = nil
		if err := q.ChangeVisibility(t.Context(), msg, c.d); err != nil {
			t.Fatalf("ChangeVisibility(%v): %v", c.d, err)
		}
		if got := s.inputs[0].(*sqs.ChangeMessageVisibilityInput).VisibilityTimeout; got != c.want {
			t.Errorf("ChangeVisibility(%v) sent %d seconds, want %d", c.d, got, c.want)
		}
	}
	for _, d := range []time.Duration{-time.Second, 12*time.Hour + time.Second} {
		if err := q.ChangeVisibility(t.Context(), msg, d); err == nil {
			t.Errorf("ChangeVisibility(%v) succeeded", d)
		}
	}
	if err := q.ChangeVisibility(t.Context(), babysitter.Message{ID: "m"}, time.Second); err == nil {
		t.Error("ChangeVisibility without a receipt handle succeeded")
	}
}

// TestDeleteReportsFailedEntries: DeleteMessageBatch in batches of 10,
// with the entries the queue refused named by message ID after every
// batch was tried. (fauxqs accepts any receipt handle, so a stub it is.)
func TestDeleteReportsFailedEntries(t *testing.T) {
	s := &stub{answer: func(in any) (any, error) {
		p := in.(*sqs.DeleteMessageBatchInput)
		out := &sqs.DeleteMessageBatchOutput{}
		for _, e := range p.Entries {
			if *e.ReceiptHandle == "rh-3" || *e.ReceiptHandle == "rh-21" {
				out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("ReceiptHandleIsInvalid"), Message: aws.String("bad handle"), SenderFault: true})
				continue
			}
			out.Successful = append(out.Successful, types.DeleteMessageBatchResultEntry{Id: e.Id})
		}
		return out, nil
	}}
	q := sqsqueue.New(s.client(), "http://h/000000000000/jobs", sqsqueue.Options{})
	msgs := make([]babysitter.Message, 25)
	for i := range msgs {
		msgs[i] = babysitter.Message{ID: fmt.Sprintf("msg-%d", i), ReceiptHandle: fmt.Sprintf("rh-%d", i)}
	}
	err := q.Delete(t.Context(), msgs)
	if err == nil {
		t.Fatal("Delete succeeded despite failed entries")
	}
	for _, want := range []string{"jobs", "2 of 25", "message msg-3: ReceiptHandleIsInvalid", "message msg-21: ReceiptHandleIsInvalid"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	var sizes []int
	for _, in := range s.inputs {
		sizes = append(sizes, len(in.(*sqs.DeleteMessageBatchInput).Entries))
	}
	if d := cmp.Diff([]int{10, 10, 5}, sizes); d != "" {
		t.Errorf("batch sizes (-want +got):\n%s", d)
	}

	s.inputs = nil
	if err := q.Delete(t.Context(), []babysitter.Message{{ID: "a", ReceiptHandle: "x"}, {ID: "b"}}); err == nil || len(s.inputs) != 0 {
		t.Errorf("Delete of a message without a receipt handle: %v, %d calls; want an error and no call", err, len(s.inputs))
	}
	if err := q.Delete(t.Context(), nil); err != nil || len(s.inputs) != 0 {
		t.Errorf("Delete(nil) = %v with %d calls", err, len(s.inputs))
	}
}

// TestSendRefusesBadMessages: what SQS would reject or the SDK would
// garble is refused before anything is sent.
func TestSendRefusesBadMessages(t *testing.T) {
	s := &stub{answer: ok}
	q := sqsqueue.New(s.client(), "q", sqsqueue.Options{})
	for _, m := range []babysitter.Message{
		{},
		{Body: []byte{0xff, 0xfe}},
		{Body: []byte("x"), Attributes: map[string]string{"k": ""}},
		{Body: []byte("x"), Attributes: map[string]string{"": "v"}},
	} {
		if err := q.Send(t.Context(), []babysitter.Message{{Body: []byte("fine")}, m}); err == nil {
			t.Errorf("Send(%+v) succeeded", m)
		}
	}
	if len(s.inputs) != 0 {
		t.Errorf("%d calls made for refused sends", len(s.inputs))
	}
	if err := q.Send(t.Context(), nil); err != nil || len(s.inputs) != 0 {
		t.Errorf("Send(nil) = %v with %d calls", err, len(s.inputs))
	}
}

// TestSendMessageShape: entries are named by index, attributes are String
// attributes, and a message the queue does not mention in its response
// counts as failed and is resent.
func TestSendMessageShape(t *testing.T) {
	calls := 0
	s := &stub{answer: func(in any) (any, error) {
		calls++
		p := in.(*sqs.SendMessageBatchInput)
		out := &sqs.SendMessageBatchOutput{}
		for i, e := range p.Entries {
			if calls == 1 && i == 1 {
				continue // no word about the second entry
			}
			out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: e.Id})
		}
		return out, nil
	}}
	q := sqsqueue.New(s.client(), "q", sqsqueue.Options{})
	msgs := []babysitter.Message{
		{Body: []byte("a"), Attributes: map[string]string{"type": "t", "version": "1"}},
		{Body: []byte("b")},
	}
	if err := q.Send(t.Context(), msgs); err != nil {
		t.Fatalf("Send: %v", err)
	}
	first := s.inputs[0].(*sqs.SendMessageBatchInput)
	want := []types.SendMessageBatchRequestEntry{
		{Id: aws.String("0"), MessageBody: aws.String("a"), MessageAttributes: map[string]types.MessageAttributeValue{
			"type":    {DataType: aws.String("String"), StringValue: aws.String("t")},
			"version": {DataType: aws.String("String"), StringValue: aws.String("1")},
		}},
		{Id: aws.String("1"), MessageBody: aws.String("b")},
	}
	if d := cmp.Diff(want, first.Entries, cmp.AllowUnexported(types.SendMessageBatchRequestEntry{}, types.MessageAttributeValue{})); d != "" {
		t.Errorf("entries (-want +got):\n%s", d)
	}
	if len(s.inputs) != 2 || len(s.inputs[1].(*sqs.SendMessageBatchInput).Entries) != 1 || *s.inputs[1].(*sqs.SendMessageBatchInput).Entries[0].Id != "1" {
		t.Errorf("the unmentioned entry was not resent alone: %d calls", len(s.inputs))
	}
}

// TestContextCancelled: a call on a done context fails with its error,
// matching errors.Is, without a request.
func TestContextCancelled(t *testing.T) {
	s := &stub{answer: ok}
	q := sqsqueue.New(s.client(), "q", sqsqueue.Options{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := q.Receive(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Receive = %v, want context.Canceled", err)
	}
	if err := q.Send(ctx, []babysitter.Message{{Body: []byte("x")}}); !errors.Is(err, context.Canceled) {
		t.Errorf("Send = %v, want context.Canceled", err)
	}
	if len(s.inputs) != 0 {
		t.Errorf("%d requests made on a cancelled context", len(s.inputs))
	}
	for _, n := range []int{0, 11} {
		if _, err := q.Receive(t.Context(), n); err == nil {
			t.Errorf("Receive(max %d) succeeded", n)
		}
	}
}
