// Command sweeper is the scheduled Lambda that finishes what was left
// undone: every minute (an EventBridge schedule) it runs
// babysitter.Decliner.Sweep, which declines the PENDING applications of
// every job whose declines have been due for longer than SWEEP_AFTER —
// booked or cancelled, but its message never sent (the resolver timed out,
// SQS was unreachable), dead-lettered, or its notifications not published
// — and publishes their notifications; and babysitter.Eraser.Sweep, which
// deletes the objects of deleted accounts that DeleteUser could not delete
// at once. Both follow from committed writes, with no client action.
//
// Environment: TABLE_NAME (the DynamoDB table), TOPIC_ARN (the
// notifications topic), BUCKET and PUBLIC_BASE_URL (lambdaenv.Blobs),
// AWS_REGION (set by Lambda), SWEEP_AFTER (optional, a Go duration,
// default 1m), LOG_LEVEL (optional), and OpenTelemetry's OTEL_* variables
// (lambdaenv.Telemetry): with an OTLP endpoint each run is a trace — the
// invocation's span, the Sweep, a DeclineJob per job it finishes, the
// DynamoDB calls.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/examples/lambda/internal/lambdaenv"
	"github.com/babysitter-go/babysitter/store/dynamodb"
	"github.com/babysitter-go/babysitter/telemetry/awsotel"
	"github.com/babysitter-go/babysitter/telemetry/lambdaotel"
	"github.com/babysitter-go/babysitter/telemetry/otelenv"
)

func main() {
	log := lambdaenv.Logger()
	slog.SetDefault(log)
	ctx := context.Background()
	tel, err := lambdaenv.Telemetry(ctx, "babysitter-sweeper")
	if err != nil {
		log.Error("cannot start", "err", err)
		os.Exit(1)
	}
	decliner, eraser, err := newSweepers(ctx, log, tel)
	if err != nil {
		log.Error("cannot start", "err", err)
		os.Exit(1)
	}
	log = slog.New(babysitter.NewLogHandler(log.Handler())) // the request and trace IDs on "sweep done"
	lambda.Start(lambdaenv.Traced(lambda.NewHandler(func(ctx context.Context, _ events.EventBridgeEvent) error {
		jobs, derr := decliner.Sweep(ctx)
		accounts, eerr := eraser.Sweep(ctx)
		log.InfoContext(ctx, "sweep done", "jobs", jobs, "deletedAccounts", accounts)
		return errors.Join(derr, eerr) // a failed sweep is retried by the next schedule
	}), tel, log, lambdaotel.TriggerTimer))
}

// newSweepers wires the Decliner to DynamoDB and SNS, and the Eraser to
// DynamoDB and S3, from the environment, the Decliner traced and metered
// on tel. The sweeper declines, publishes and deletes directly; it sends
// nothing to the queue.
func newSweepers(ctx context.Context, log *slog.Logger, tel *otelenv.Telemetry) (*babysitter.Decliner, *babysitter.Eraser, error) {
	table, err := lambdaenv.Require("TABLE_NAME")
	if err != nil {
		return nil, nil, err
	}
	after := time.Minute
	if v := os.Getenv("SWEEP_AFTER"); v != "" {
		if after, err = time.ParseDuration(v); err != nil || after <= 0 {
			return nil, nil, fmt.Errorf("SWEEP_AFTER=%q: want a positive Go duration such as 1m", v)
		}
	}
	cfg, err := lambdaenv.AWSConfig(ctx)
	if err != nil {
		return nil, nil, err
	}
	notifier, err := lambdaenv.Notifier(cfg, tel.TracerProvider)
	if err != nil {
		return nil, nil, err
	}
	blobs, _, err := lambdaenv.Blobs(cfg, tel.TracerProvider)
	if err != nil {
		return nil, nil, err
	}
	store := dynamodb.New(awsdynamodb.NewFromConfig(cfg, awsotel.DynamoDB(tel.TracerProvider)), table)
	return babysitter.NewDecliner(store, babysitter.DeclinerOptions{
			Logger: log, SweepAfter: after, Notifier: notifier,
			TracerProvider: tel.TracerProvider, MeterProvider: tel.MeterProvider, Propagator: tel.Propagator,
		}),
		babysitter.NewEraser(store, blobs, babysitter.EraserOptions{
			Logger: log, SweepAfter: after, TracerProvider: tel.TracerProvider, MeterProvider: tel.MeterProvider,
		}), nil
}
