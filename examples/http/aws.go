package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.opentelemetry.io/otel/trace"

	"github.com/babysitter-go/babysitter"
	sqsqueue "github.com/babysitter-go/babysitter/queue/sqs"
	ddbstore "github.com/babysitter-go/babysitter/store/dynamodb"
	"github.com/babysitter-go/babysitter/telemetry/awsotel"
)

// createTableTimeout bounds -create-table, which waits for the table (and
// its indexes) to become ACTIVE; startupCheckTimeout bounds each of the
// checks that run before the server listens.
const (
	createTableTimeout  = 2 * time.Minute
	startupCheckTimeout = 15 * time.Second
)

// newAWSBackends returns the DynamoDB store and the SQS decline queue (as
// both the Queue the Service sends to and the Source the poller consumes).
// The SDK's default configuration chain supplies credentials, and
// AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SQS point the clients at
// local servers (DynamoDB Local, fauxqs).
//
// Before the server listens it checks what every request will need — the
// credentials, the table with its indexes, the queue — and refuses to
// start with a message that names the fix, rather than answer 500s or
// loop on receive errors.
//
// The store's client and the client the Service sends with are traced on
// tp (telemetry/awsotel): their calls are children of the Service's and
// the Decliner's spans. The startup checks and the poller's receives and
// deletes use untraced clients, since each call would start a trace of
// its own: one every long poll (20 s) for an idle queue.
func newAWSBackends(ctx context.Context, cfg config, log *slog.Logger, tp trace.TracerProvider) (babysitter.Store, babysitter.Queue, babysitter.Source, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, awsconfig.WithRegion(cfg.Region))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("aws config: %w", err)
	}
	if awsCfg.Region == "" {
		return nil, nil, nil, errors.New("no AWS region: set -region or AWS_REGION (any region, e.g. us-east-1, for DynamoDB Local and fauxqs)")
	}
	if err := checkCredentials(ctx, awsCfg); err != nil {
		return nil, nil, nil, err
	}
	client := dynamodb.NewFromConfig(awsCfg)
	if cfg.CreateTable {
		ctx, cancel := context.WithTimeout(ctx, createTableTimeout)
		defer cancel()
		if err := ddbstore.CreateTable(ctx, client, cfg.Table); err != nil {
			return nil, nil, nil, err
		}
	}
	if err := checkTable(ctx, client, cfg.Table, awsCfg.Region); err != nil {
		return nil, nil, nil, err
	}
	store := ddbstore.New(dynamodb.NewFromConfig(awsCfg, awsotel.DynamoDB(tp)), cfg.Table)
	source, err := newSQSQueue(ctx, awsCfg, cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	queue := sqsqueue.New(sqs.NewFromConfig(awsCfg, awsotel.SQS(tp)), source.URL(), queueOptions(cfg))
	log.Info("AWS backends ready", "region", awsCfg.Region, "table", cfg.Table, "queueUrl", queue.URL())
	return store, queue, source, nil
}

// queueOptions are the decline queue's: received messages get
// cfg.VisibilityTimeout, the timeout the poller extends by, whatever the
// queue's own setting.
func queueOptions(cfg config) sqsqueue.Options {
	return sqsqueue.Options{VisibilityTimeout: cfg.VisibilityTimeout}
}

// checkCredentials resolves the credentials once, so that a missing or
// broken setup fails here and not on the first request.
func checkCredentials(ctx context.Context, awsCfg aws.Config) error {
	ctx, cancel := context.WithTimeout(ctx, startupCheckTimeout)
	defer cancel()
	if _, err := awsCfg.Credentials.Retrieve(ctx); err != nil {
		return fmt.Errorf("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE "+
			"(for DynamoDB Local and fauxqs any non-empty values do): %w", err)
	}
	return nil
}

// checkTable makes sure the table exists, is ACTIVE and has the indexes
// the store queries.
func checkTable(ctx context.Context, client *dynamodb.Client, table, region string) error {
	ctx, cancel := context.WithTimeout(ctx, startupCheckTimeout)
	defer cancel()
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	var notFound *ddbtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &notFound):
		return fmt.Errorf("DynamoDB table %q does not exist in region %s: add -create-table to create it (local development), "+
			"or deploy examples/lambda/template.yaml and pass its table name", table, region)
	case err != nil:
		return fmt.Errorf("DynamoDB table %q in region %s: %w (is AWS_ENDPOINT_URL_DYNAMODB right, the server running, the region and credentials the table's?)",
			table, region, err)
	}
	if st := out.Table.TableStatus; st != ddbtypes.TableStatusActive {
		return fmt.Errorf("DynamoDB table %q is %s, not ACTIVE: start again once it is", table, st)
	}
	var missing []string
	for _, want := range []string{ddbstore.IndexByUser, ddbstore.IndexByStatus, ddbstore.IndexByCell} {
		if !slices.ContainsFunc(out.Table.GlobalSecondaryIndexes, func(g ddbtypes.GlobalSecondaryIndexDescription) bool {
			return aws.ToString(g.IndexName) == want
		}) {
			missing = append(missing, want)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("DynamoDB table %q lacks the indexes %s: it was not made by -create-table or the SAM template "+
			"(-create-table on it reports the exact difference)", table, strings.Join(missing, ", "))
	}
	return nil
}

// newSQSQueue returns the decline queue at cfg.QueueURL, creating it and
// its dead-letter queue first with -create-queue, and checks that it
// answers.
func newSQSQueue(ctx context.Context, awsCfg aws.Config, cfg config) (*sqsqueue.Queue, error) {
	client := sqs.NewFromConfig(awsCfg)
	queueURL := cfg.QueueURL
	if cfg.CreateQueue {
		name := path.Base(queueURL)
		created, _, err := sqsqueue.CreateQueue(ctx, client, name, cfg.VisibilityTimeout, maxReceiveCount)
		if err != nil {
			return nil, err
		}
		if created != queueURL {
			// The server decides the URL (host, account); use the real one.
			queueURL = created
		}
	}
	q := sqsqueue.New(client, queueURL, queueOptions(cfg))
	check, cancel := context.WithTimeout(ctx, startupCheckTimeout)
	defer cancel()
	if _, _, err := q.Len(check); errors.Is(err, sqsqueue.ErrQueueNotFound) {
		return nil, fmt.Errorf("SQS queue %s does not exist in region %s: add -create-queue to create it with its dead-letter queue "+
			"(local development), or deploy examples/lambda/template.yaml and pass its queue URL", queueURL, awsCfg.Region)
	} else if err != nil {
		return nil, fmt.Errorf("SQS queue %s: %w (is AWS_ENDPOINT_URL_SQS right, the server running, the region and credentials the queue's?)", queueURL, err)
	}
	return q, nil
}
