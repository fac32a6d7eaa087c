package sqs_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/babysitter-go/babysitter/internal/testenv"
	sqsqueue "github.com/babysitter-go/babysitter/queue/sqs"
)

// wrappedClient is the kind of client New and CreateQueue take besides
// *sqs.Client: a struct embedding the interface, overriding some methods
// (here to count their calls) and passing the rest through. CreateQueueAPI
// is a named field: embedding it too would make GetQueueAttributes, which
// both interfaces have, ambiguous.
type wrappedClient struct {
	sqsqueue.API
	create                                        sqsqueue.CreateQueueAPI
	createQueue, sendMessageBatch, receiveMessage atomic.Int64
}

func (c *wrappedClient) CreateQueue(ctx context.Context, in *sqs.CreateQueueInput, optFns ...func(*sqs.Options)) (*sqs.CreateQueueOutput, error) {
	c.createQueue.Add(1)
	return c.create.CreateQueue(ctx, in, optFns...)
}

func (c *wrappedClient) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	c.sendMessageBatch.Add(1)
	return c.API.SendMessageBatch(ctx, in, optFns...)
}

func (c *wrappedClient) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	c.receiveMessage.Add(1)
	return c.API.ReceiveMessage(ctx, in, optFns...)
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
	q := sqsqueue.New(c, url, sqsqueue.Options{SendConcurrency: 1, WaitTime: wait})
	msgs := messages("w", 12)
	if err := q.Send(ctx, msgs); err != nil {
		t.Fatalf("Send: %v", err)
	}
	exactlyOnce(t, bodies(msgs), receiveAll(t, q, len(msgs)))
	// The queue and its dead-letter queue; ⌈12/10⌉ batches; receiveAll
	// receives at least once more after the last message.
	if cq, sb, rm := c.createQueue.Load(), c.sendMessageBatch.Load(), c.receiveMessage.Load(); cq != 2 || sb != 2 || rm < 2 {
		t.Errorf("calls through the wrapper: CreateQueue=%d SendMessageBatch=%d ReceiveMessage=%d, want 2, 2, at least 2", cq, sb, rm)
	}
}
