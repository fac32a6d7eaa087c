package sqs_test

import (
	"context"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/babysitter-go/babysitter/internal/testenv"
	sqsqueue "github.com/babysitter-go/babysitter/queue/sqs"
	"github.com/babysitter-go/babysitter/queue/sqs/sqstest"
)

// wrappedClient is the kind of client New and CreateQueue take besides
// *sqs.Client: a struct embedding the interfaces, overriding some methods
// (here to count them) and passing the rest through. CreateQueueAPI is a
// named field: embedding both interfaces would make GetQueueAttributes
// ambiguous.
type wrappedClient struct {
	sqsqueue.API
	create sqsqueue.CreateQueueAPI

	mu    sync.Mutex
	calls map[string]int
}

func (c *wrappedClient) count(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[op]++
}

func (c *wrappedClient) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	got := maps.Clone(c.calls)
	c.calls = nil
	return got
}

func (c *wrappedClient) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	c.count("SendMessageBatch")
	return c.API.SendMessageBatch(ctx, in, optFns...)
}

func (c *wrappedClient) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	c.count("ReceiveMessage")
	return c.API.ReceiveMessage(ctx, in, optFns...)
}

func (c *wrappedClient) CreateQueue(ctx context.Context, in *sqs.CreateQueueInput, optFns ...func(*sqs.Options)) (*sqs.CreateQueueOutput, error) {
	c.count("CreateQueue")
	return c.create.CreateQueue(ctx, in, optFns...)
}

// GetQueueAttributes is in both interfaces (Len; the dead-letter queue's ARN
// in CreateQueue); the embedded API serves both here.
func (c *wrappedClient) GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	c.count("GetQueueAttributes")
	return c.API.GetQueueAttributes(ctx, in, optFns...)
}

// TestWrappedClient creates a queue with its dead-letter queue, sends 12
// messages and receives them on fauxqs through a wrapped client, and checks
// that the wrapper saw each call.
func TestWrappedClient(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sdk := testenv.SQSClient(t)
	c := &wrappedClient{API: sdk, create: sdk}

	url, dlqURL, err := sqsqueue.CreateQueue(ctx, c, testenv.UniqueName(t, "wrapped"), 30*time.Second, 3)
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	t.Cleanup(func() {
		for _, u := range []string{url, dlqURL} {
			_, _ = sdk.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(u)})
		}
	})
	if got, want := c.take(), map[string]int{"CreateQueue": 2, "GetQueueAttributes": 1}; !maps.Equal(got, want) {
		t.Errorf("CreateQueue through the wrapper: calls %s, want %s", sqstest.Format(got), sqstest.Format(want))
	}

	q := sqsqueue.New(c, url, sqsqueue.Options{SendConcurrency: 1, WaitTime: wait})
	msgs := messages("w", 12)
	if err := q.Send(ctx, msgs); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got, want := c.take(), map[string]int{"SendMessageBatch": 2}; !maps.Equal(got, want) {
		t.Errorf("Send through the wrapper: calls %s, want %s", sqstest.Format(got), sqstest.Format(want))
	}
	exactlyOnce(t, bodies(msgs), receiveAll(t, q, len(msgs)))
	if got := c.take(); got["ReceiveMessage"] < 2 {
		t.Errorf("receiving through the wrapper: calls %s, want ReceiveMessage at least twice", sqstest.Format(got))
	}
}
