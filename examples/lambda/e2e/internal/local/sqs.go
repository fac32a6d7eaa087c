package local

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// QueueARN asks the queue for its ARN (the eventSourceARN of its events).
func QueueARN(ctx context.Context, client *sqs.Client, queueURL string) (string, error) {
	out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(queueURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", fmt.Errorf("queue ARN of %s: %w", queueURL, err)
	}
	arn := out.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
	if arn == "" {
		return "", fmt.Errorf("queue %s has no QueueArn attribute", queueURL)
	}
	return arn, nil
}

// SQSEvent builds the event Lambda's SQS event source mapping would send
// for msgs (received with all system and message attributes): one record
// per message with messageId, receiptHandle, body, md5s, attributes
// (ApproximateReceiveCount, SentTimestamp, ...), messageAttributes,
// eventSource aws:sqs, eventSourceARN and awsRegion.
func SQSEvent(msgs []sqstypes.Message, queueARN string) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	for _, m := range msgs {
		r := events.SQSMessage{
			MessageId:              aws.ToString(m.MessageId),
			ReceiptHandle:          aws.ToString(m.ReceiptHandle),
			Body:                   aws.ToString(m.Body),
			Md5OfBody:              aws.ToString(m.MD5OfBody),
			Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes:             map[string]string{},
			MessageAttributes:      map[string]events.SQSMessageAttribute{},
			EventSource:            "aws:sqs",
			EventSourceARN:         queueARN,
			AWSRegion:              Region,
		}
		for k, v := range m.Attributes {
			r.Attributes[k] = v
		}
		for k, v := range m.MessageAttributes {
			a := events.SQSMessageAttribute{
				StringValue:      v.StringValue,
				BinaryValue:      v.BinaryValue,
				StringListValues: v.StringListValues,
				BinaryListValues: v.BinaryListValues,
				DataType:         aws.ToString(v.DataType),
			}
			if a.StringListValues == nil {
				a.StringListValues = []string{}
			}
			if a.BinaryListValues == nil {
				a.BinaryListValues = [][]byte{}
			}
			r.MessageAttributes[k] = a
		}
		ev.Records = append(ev.Records, r)
	}
	return ev
}

// Delivery is what one DeliverOnce did.
type Delivery struct {
	// Event is the event the function was invoked with (no records if the
	// queue had no message).
	Event events.SQSEvent
	// Response is the function's partial batch response.
	Response events.SQSEventResponse
	// Deleted are the message IDs deleted from the queue.
	Deleted []string
}

// DeliverOnce plays one poll of the SQS event source mapping (batch size
// 10, ReportBatchItemFailures): it receives up to 10 messages (waiting up
// to wait seconds for the first), invokes fn with their event, and deletes
// the messages that are not in batchItemFailures. The failed ones stay on
// the queue and come back after the visibility timeout, with a higher
// ApproximateReceiveCount. If the invocation fails as a whole, nothing is
// deleted (Lambda retries the whole batch) and the error is returned.
func DeliverOnce(ctx context.Context, client *sqs.Client, queueURL, queueARN string, fn *Function, wait int32) (Delivery, error) {
	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(queueURL),
		MaxNumberOfMessages:         10,
		WaitTimeSeconds:             wait,
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
	})
	if err != nil {
		return Delivery{}, fmt.Errorf("receive: %w", err)
	}
	d := Delivery{Event: SQSEvent(out.Messages, queueARN)}
	if len(out.Messages) == 0 {
		return d, nil
	}
	payload, err := json.Marshal(d.Event)
	if err != nil {
		return d, err
	}
	res, err := fn.Invoke(ctx, payload)
	if err != nil {
		return d, fmt.Errorf("invoke %s with %d messages: %w", fn.Name, len(out.Messages), err)
	}
	if err := json.Unmarshal(res, &d.Response); err != nil {
		return d, fmt.Errorf("%s returned %s, not a partial batch response: %w", fn.Name, res, err)
	}
	failed := map[string]bool{}
	for _, f := range d.Response.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	var entries []sqstypes.DeleteMessageBatchRequestEntry
	for i, m := range out.Messages {
		if failed[aws.ToString(m.MessageId)] {
			continue
		}
		entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{
			Id:            aws.String(fmt.Sprint(i)),
			ReceiptHandle: m.ReceiptHandle,
		})
		d.Deleted = append(d.Deleted, aws.ToString(m.MessageId))
	}
	if len(entries) == 0 {
		return d, nil
	}
	del, err := client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: entries})
	if err != nil {
		return d, fmt.Errorf("delete: %w", err)
	}
	if len(del.Failed) > 0 {
		return d, fmt.Errorf("delete: %d of %d failed: %s", len(del.Failed), len(entries), aws.ToString(del.Failed[0].Message))
	}
	return d, nil
}
