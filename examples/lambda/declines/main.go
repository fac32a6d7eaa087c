// Command declines is the SQS-triggered Lambda of the decline queue: it
// runs a babysitter.Decliner on each batch and returns the failed message
// IDs as batchItemFailures (the event source mapping has
// ReportBatchItemFailures), so only those are redelivered and, after the
// queue's maxReceiveCount, moved to the dead-letter queue.
//
// After a job's declines it publishes what they mean for each person —
// booked, bookingConfirmed, declined, jobCancelled — to the SNS topic
// TOPIC_ARN; the job's outbox entry is cleared only once they are
// published, so a failed publication is retried with the message.
//
// Environment: TABLE_NAME (the DynamoDB table), TOPIC_ARN (the
// notifications topic), AWS_REGION (set by Lambda), LOG_LEVEL (optional),
// and OpenTelemetry's OTEL_* variables (lambdaenv.Telemetry): with an OTLP
// endpoint each batch is a trace — the invocation's consumer span, a
// DeclineJob span per job linked to the booking that sent its message,
// the DynamoDB calls.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/examples/lambda/internal/lambdaenv"
	"github.com/babysitter-go/babysitter/store/dynamodb"
	"github.com/babysitter-go/babysitter/telemetry/awsotel"
	"github.com/babysitter-go/babysitter/telemetry/lambdaotel"
	"github.com/babysitter-go/babysitter/telemetry/otelenv"
	"github.com/babysitter-go/babysitter/transport/sqsevent"
)

func main() {
	log := lambdaenv.Logger()
	slog.SetDefault(log)
	ctx := context.Background()
	tel, err := lambdaenv.Telemetry(ctx, "babysitter-declines")
	if err != nil {
		log.Error("cannot start", "err", err)
		os.Exit(1)
	}
	decliner, err := newDecliner(ctx, log, tel)
	if err != nil {
		log.Error("cannot start", "err", err)
		os.Exit(1)
	}
	lambda.Start(lambdaenv.Traced(lambda.NewHandler(sqsevent.Handler(decliner.HandleBatch, log)), tel, log, lambdaotel.TriggerPubSub))
}

// newDecliner wires the Decliner to DynamoDB and SNS from the
// environment, traced and metered on tel. The consumer only declines and
// publishes; it never sends to the queue, so it has no queue client and
// no sqs:SendMessage permission. It knows the queue's maxReceiveCount, so
// a message failing at its last delivery is logged and counted as
// dead-lettered.
func newDecliner(ctx context.Context, log *slog.Logger, tel *otelenv.Telemetry) (*babysitter.Decliner, error) {
	table, err := lambdaenv.Require("TABLE_NAME")
	if err != nil {
		return nil, err
	}
	cfg, err := lambdaenv.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	store := dynamodb.New(awsdynamodb.NewFromConfig(cfg, awsotel.DynamoDB(tel.TracerProvider)), table)
	notifier, err := lambdaenv.Notifier(cfg, tel.TracerProvider)
	if err != nil {
		return nil, err
	}
	return babysitter.NewDecliner(store, babysitter.DeclinerOptions{
		Logger: log, Notifier: notifier, MaxReceiveCount: lambdaenv.MaxReceiveCount,
		TracerProvider: tel.TracerProvider, MeterProvider: tel.MeterProvider, Propagator: tel.Propagator,
	}), nil
}
