package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"go.opentelemetry.io/otel/trace"

	"github.com/babysitter-go/babysitter"
	s3blobs "github.com/babysitter-go/babysitter/blob/s3"
	snsnotify "github.com/babysitter-go/babysitter/notify/sns"
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
func newAWSBackends(ctx context.Context, cfg config, log *slog.Logger, tp trace.TracerProvider) (backends, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, awsconfig.WithRegion(cfg.Region))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return backends{}, fmt.Errorf("aws config: %w", err)
	}
	if awsCfg.Region == "" {
		return backends{}, errors.New("no AWS region: set -region or AWS_REGION (any region, e.g. us-east-1, for DynamoDB Local and fauxqs)")
	}
	if err := checkCredentials(ctx, awsCfg); err != nil {
		return backends{}, err
	}
	client := dynamodb.NewFromConfig(awsCfg)
	if cfg.CreateTable {
		ctx, cancel := context.WithTimeout(ctx, createTableTimeout)
		defer cancel()
		if err := ddbstore.CreateTable(ctx, client, cfg.Table); err != nil {
			return backends{}, err
		}
	}
	if err := checkTable(ctx, client, cfg.Table, awsCfg.Region); err != nil {
		return backends{}, err
	}
	b := backends{store: ddbstore.New(dynamodb.NewFromConfig(awsCfg, awsotel.DynamoDB(tp)), cfg.Table)}
	source, err := newSQSQueue(ctx, awsCfg, cfg)
	if err != nil {
		return backends{}, err
	}
	b.queue = sqsqueue.New(sqs.NewFromConfig(awsCfg, awsotel.SQS(tp)), source.URL(), queueOptions(cfg))
	b.source = source
	if cfg.Bucket != "" {
		if b.blobs, b.publicBase, err = newS3Blobs(ctx, awsCfg, cfg, tp); err != nil {
			return backends{}, err
		}
	}
	if cfg.TopicARN != "" {
		if b.notifier, err = newSNSNotifier(ctx, awsCfg, cfg, tp); err != nil {
			return backends{}, err
		}
	}
	log.Info("AWS backends ready", "region", awsCfg.Region, "table", cfg.Table, "queueUrl", source.URL(),
		"bucket", cfg.Bucket, "publicBaseUrl", b.publicBase, "topicArn", cfg.TopicARN)
	return b, nil
}

// queueOptions are the decline queue's: received messages get
// cfg.VisibilityTimeout, the timeout the poller extends by, whatever the
// queue's own setting.
func queueOptions(cfg config) sqsqueue.Options {
	return sqsqueue.Options{VisibilityTimeout: cfg.VisibilityTimeout}
}

// localS3 reports whether the S3 client is pointed at a local server
// (AWS_ENDPOINT_URL_S3, or AWS_ENDPOINT_URL for every service), which
// serves buckets at <endpoint>/<bucket> rather than on per-bucket hosts.
func localS3(awsCfg aws.Config) (string, bool) {
	for _, v := range []string{"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"} {
		if e := os.Getenv(v); e != "" {
			return strings.TrimSuffix(e, "/"), true
		}
	}
	return "", awsCfg.BaseEndpoint != nil
}

// newS3Blobs returns the bucket of the uploads (creating it with
// -create-bucket) and the public base URL of its pictures, and checks
// that the bucket answers. The bucket's calls are traced on tp, the
// startup checks not (each would be a trace of its own).
func newS3Blobs(ctx context.Context, awsCfg aws.Config, cfg config, tp trace.TracerProvider) (babysitter.Blobs, string, error) {
	endpoint, local := localS3(awsCfg)
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = local })
	if cfg.CreateBucket {
		if err := s3blobs.CreateBucket(ctx, client, cfg.Bucket); err != nil {
			return nil, "", err
		}
	}
	check, cancel := context.WithTimeout(ctx, startupCheckTimeout)
	defer cancel()
	if _, err := client.HeadBucket(check, &s3.HeadBucketInput{Bucket: aws.String(cfg.Bucket)}); err != nil {
		return nil, "", fmt.Errorf("S3 bucket %q in region %s: %w (add -create-bucket for local development, "+
			"or deploy examples/lambda/template.yaml and pass its bucket)", cfg.Bucket, awsCfg.Region, err)
	}
	base := cfg.PublicBaseURL
	switch {
	case base != "":
	case local:
		base = endpoint + "/" + cfg.Bucket + "/"
	default:
		base = "https://" + cfg.Bucket + ".s3." + awsCfg.Region + ".amazonaws.com/"
	}
	traced := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = local }, awsotel.S3(tp))
	return s3blobs.New(traced, s3.NewPresignClient(traced, awsotel.PresignUntraced), cfg.Bucket), base, nil
}

// newSNSNotifier returns the notifier of the topic -topic-arn (creating it
// with -create-topic) and checks that the topic answers. Its publishing
// is traced on tp, the startup checks not.
func newSNSNotifier(ctx context.Context, awsCfg aws.Config, cfg config, tp trace.TracerProvider) (babysitter.Notifier, error) {
	client := sns.NewFromConfig(awsCfg)
	arn := cfg.TopicARN
	if cfg.CreateTopic {
		out, err := client.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(arn[strings.LastIndexByte(arn, ':')+1:])})
		if err != nil {
			return nil, fmt.Errorf("create SNS topic: %w", err)
		}
		arn = aws.ToString(out.TopicArn) // the server decides the account
	}
	check, cancel := context.WithTimeout(ctx, startupCheckTimeout)
	defer cancel()
	if _, err := client.GetTopicAttributes(check, &sns.GetTopicAttributesInput{TopicArn: aws.String(arn)}); err != nil {
		return nil, fmt.Errorf("SNS topic %s: %w (add -create-topic for local development, or deploy examples/lambda/template.yaml and pass its topic ARN)", arn, err)
	}
	return snsnotify.New(sns.NewFromConfig(awsCfg, awsotel.SNS(tp)), arn, snsnotify.Options{}), nil
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
