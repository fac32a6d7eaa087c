// Command resolver is the AppSync direct Lambda resolver of the babysitter
// GraphQL API: one function for every Query and Mutation field, routed on
// info.parentTypeName and info.fieldName (see the transport/appsync package).
//
// Environment: TABLE_NAME (the DynamoDB table), QUEUE_URL (the decline
// queue), BUCKET and PUBLIC_BASE_URL (identity documents and pictures; see
// lambdaenv.Blobs), AWS_REGION (set by Lambda), WRITES_PER_MINUTE
// (optional: each caller's mutations per minute on one execution
// environment, default 30 with bursts of 20; 0 turns the limit off),
// LOG_LEVEL (optional), and OpenTelemetry's OTEL_* variables
// (lambdaenv.Telemetry): with an OTLP endpoint each invocation is a trace
// — the invocation's span, the field's, the Service's operation, the
// DynamoDB and SQS calls.
package main

import (
	"context"
	"log/slog"
	"os"
	"strconv"

	"github.com/aws/aws-lambda-go/lambda"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/examples/lambda/internal/lambdaenv"
	"github.com/babysitter-go/babysitter/queue/sqs"
	"github.com/babysitter-go/babysitter/store/dynamodb"
	"github.com/babysitter-go/babysitter/telemetry/awsotel"
	"github.com/babysitter-go/babysitter/telemetry/lambdaotel"
	"github.com/babysitter-go/babysitter/telemetry/otelenv"
	"github.com/babysitter-go/babysitter/transport/appsync"
)

func main() {
	log := lambdaenv.Logger()
	slog.SetDefault(log)
	// Clients are built once per execution environment, outside the
	// handler; building them does no I/O.
	ctx := context.Background()
	tel, err := lambdaenv.Telemetry(ctx, "babysitter-resolver")
	if err != nil {
		log.Error("cannot start", "err", err)
		os.Exit(1)
	}
	svc, err := newService(ctx, log, tel)
	if err != nil {
		log.Error("cannot start", "err", err)
		os.Exit(1)
	}
	perMinute := float64(appsync.DefaultWritesPerMinute)
	if v := os.Getenv("WRITES_PER_MINUTE"); v != "" {
		if perMinute, err = strconv.ParseFloat(v, 64); err != nil || perMinute < 0 {
			log.Error("cannot start: WRITES_PER_MINUTE must be a number of writes, 0 for no limit", "value", v)
			os.Exit(1)
		}
	}
	router := appsync.NewRouter(svc, appsync.Options{
		Logger: log, Tracer: appsync.OTelTracer(tel.TracerProvider), WritesPerMinute: perMinute, WriteBurst: appsync.DefaultWriteBurst,
	})
	lambda.Start(lambdaenv.Traced(lambda.NewHandler(router.Handle), tel, log, lambdaotel.TriggerOther))
}

// newService wires the Service to DynamoDB and SQS from the environment,
// traced and metered on tel.
func newService(ctx context.Context, log *slog.Logger, tel *otelenv.Telemetry) (*babysitter.Service, error) {
	table, err := lambdaenv.Require("TABLE_NAME")
	if err != nil {
		return nil, err
	}
	queueURL, err := lambdaenv.Require("QUEUE_URL")
	if err != nil {
		return nil, err
	}
	cfg, err := lambdaenv.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	store := dynamodb.New(awsdynamodb.NewFromConfig(cfg, awsotel.DynamoDB(tel.TracerProvider)), table)
	// The resolver only sends (SendMessageBatch); receiving is the decline
	// function's event source mapping.
	queue := sqs.New(awssqs.NewFromConfig(cfg, awsotel.SQS(tel.TracerProvider)), queueURL, sqs.Options{})
	// Uploads are presigned here, checked (HeadObject) and, for a deleted
	// account or a replaced picture, deleted here; the bytes never pass
	// through the function.
	blobs, publicBase, err := lambdaenv.Blobs(cfg, tel.TracerProvider)
	if err != nil {
		return nil, err
	}
	return babysitter.New(store, queue, babysitter.Options{
		Logger: log, Blobs: blobs, PublicBaseURL: publicBase,
		TracerProvider: tel.TracerProvider, MeterProvider: tel.MeterProvider, Propagator: tel.Propagator,
	}), nil
}
