// Package sqsevent adapts a babysitter.BatchHandler to the Lambda SQS
// event: it turns the records of an events.SQSEvent into
// babysitter.Messages, runs the handler on them, and reports exactly the
// failed records back to Lambda as a partial batch response
// (batchItemFailures), so that only those are redelivered — and, after the
// queue's maxReceiveCount, moved to its dead-letter queue.
//
// The event source mapping must have FunctionResponseTypes
// [ReportBatchItemFailures]; without it Lambda ignores the response and
// redelivers the whole batch on any error. The decline consumer is
//
//	decliner := babysitter.NewDecliner(store, babysitter.DeclinerOptions{})
//	lambda.Start(sqsevent.Handler(decliner.HandleBatch, logger))
//
// (examples/lambda/declines). The same Decliner.HandleBatch serves a
// long-running babysitter.Poller outside Lambda.
package sqsevent

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/babysitter-go/babysitter"
)

// Handler returns the Lambda handler of an SQS event source mapping, which
// must have FunctionResponseTypes [ReportBatchItemFailures] for the
// response to be honoured. handle is a babysitter.Decliner's HandleBatch for
// the decline queue; the IDs it returns are reported once each as
// batchItemFailures (an empty list, never null, when all succeeded). log
// (slog.Default() when nil) receives one record per failed message, with
// its SQS message id and receive count, and one per batch.
//
// The invocation's AWS request ID is the context's
// babysitter.WithRequestID unless a wrapper (telemetry/lambdaotel) set
// one, so the handler's log lines — the Decliner's, and this package's
// through a babysitter.NewLogHandler — name it, with the trace and span
// IDs when the invocation is traced.
func Handler(handle babysitter.BatchHandler, log *slog.Logger) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	if log == nil {
		log = slog.Default()
	}
	log = slog.New(babysitter.NewLogHandler(log.Handler()))
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		log := log
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			log = log.With("awsRequestId", lc.AwsRequestID)
			if babysitter.RequestID(ctx) == "" {
				ctx = babysitter.WithRequestID(ctx, lc.AwsRequestID)
			}
		}
		msgs := Messages(ev)
		for _, m := range msgs {
			log.DebugContext(ctx, "message received", "messageId", m.ID, "receiveCount", m.ReceiveCount)
		}
		failed := handle(ctx, msgs)
		resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
		seen := make(map[string]bool, len(failed))
		for _, id := range failed {
			if seen[id] {
				continue
			}
			seen[id] = true
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
			log.WarnContext(ctx, "message failed; SQS will redeliver it", "messageId", id, "receiveCount", receiveCount(msgs, id))
		}
		log.InfoContext(ctx, "batch handled", "messages", len(msgs), "failed", len(resp.BatchItemFailures))
		return resp, nil
	}
}

// Messages converts the records of an SQS event: ID is the SQS message id,
// Attributes the string message attributes (type, version, and the
// sender's trace context: traceparent), ReceiptHandle comes from the
// record, ReceiveCount from its ApproximateReceiveCount and SentAt from
// its SentTimestamp (the decline lag is measured from it); a missing or
// malformed system attribute leaves its field zero.
func Messages(ev events.SQSEvent) []babysitter.Message {
	msgs := make([]babysitter.Message, len(ev.Records))
	for i, r := range ev.Records {
		m := babysitter.Message{
			ID:            r.MessageId,
			Body:          []byte(r.Body),
			ReceiptHandle: r.ReceiptHandle,
		}
		for name, a := range r.MessageAttributes {
			if a.StringValue == nil {
				continue
			}
			if m.Attributes == nil {
				m.Attributes = make(map[string]string, len(r.MessageAttributes))
			}
			m.Attributes[name] = *a.StringValue
		}
		m.ReceiveCount, _ = strconv.Atoi(r.Attributes["ApproximateReceiveCount"])
		if ms, err := strconv.ParseInt(r.Attributes["SentTimestamp"], 10, 64); err == nil && ms > 0 {
			m.SentAt = time.UnixMilli(ms)
		}
		msgs[i] = m
	}
	return msgs
}

func receiveCount(msgs []babysitter.Message, id string) int {
	for _, m := range msgs {
		if m.ID == id {
			return m.ReceiveCount
		}
	}
	return 0
}
