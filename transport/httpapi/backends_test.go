package httpapi

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/babysitter-go/babysitter"
	s3blobs "github.com/babysitter-go/babysitter/blob/s3"
	"github.com/babysitter-go/babysitter/internal/testenv"
	snsnotify "github.com/babysitter-go/babysitter/notify/sns"
	sqsqueue "github.com/babysitter-go/babysitter/queue/sqs"
	ddbstore "github.com/babysitter-go/babysitter/store/dynamodb"
)

// testBackends lists the backends the end-to-end story runs on: memory
// always; DynamoDB Local + fauxqs (SQS, S3 and SNS) through
// internal/testenv, which skips that variant when no server can be had —
// and fails it when CI=true.
func testBackends() []backend {
	return []backend{memoryBackend, awsBackend}
}

// awsEvidence is a fresh bucket and a fresh topic on fauxqs: blob/s3 with
// the SDK's presigner (pictures read at the bucket's path-style URL, as
// the bucket policy makes public/pictures/* on AWS), notify/sns observed
// through an SQS queue subscribed with a filter policy on the type
// attribute.
func awsEvidence(t testing.TB, _ string) evidence {
	t.Helper()
	s3Client := testenv.S3Client(t)
	bucket := testenv.Bucket(t, s3Client, "http")
	snsClient := testenv.SNSClient(t)
	topic := testenv.Topic(t, snsClient)
	sub := testenv.Subscribe(t, snsClient, testenv.SQSClient(t), topic, true,
		`{"type": ["booked", "bookingConfirmed", "declined", "jobCancelled"]}`)
	return evidence{
		blobs:      s3blobs.New(s3Client, s3.NewPresignClient(s3Client), bucket),
		publicBase: testenv.S3Endpoint(t) + "/" + bucket + "/",
		keys:       func() []string { return testenv.BucketKeys(t, s3Client, bucket) },
		notifier:   snsnotify.New(snsClient, topic, snsnotify.Options{}),
		published:  sub,
	}
}

// awsBackend is a fresh table and a fresh queue (with its dead-letter
// queue) on the local AWS-compatible servers.
var awsBackend = backend{
	name:     "dynamodb+sqs",
	evidence: awsEvidence,
	open: func(t testing.TB) (babysitter.Store, babysitter.Queue, babysitter.Source) {
		ddb := testenv.DynamoDBClient(t)
		sqsClient := testenv.SQSClient(t)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		table := testenv.UniqueName(t, "http")
		if err := ddbstore.CreateTable(ctx, ddb, table); err != nil {
			t.Fatalf("CreateTable: %v", err)
		}
		queueURL, _, err := sqsqueue.CreateQueue(ctx, sqsClient, testenv.UniqueName(t, "http"), 5*time.Second, maxReceiveCount)
		if err != nil {
			t.Fatalf("CreateQueue: %v", err)
		}
		// A short long poll lets the poller stop quickly at the end.
		q := sqsqueue.New(sqsClient, queueURL, sqsqueue.Options{WaitTime: time.Second})
		return ddbstore.New(ddb, table), q, q
	},
}
