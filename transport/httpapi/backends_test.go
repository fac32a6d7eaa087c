package httpapi

import (
	"context"
	"testing"
	"time"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/internal/testenv"
	sqsqueue "github.com/babysitter-go/babysitter/queue/sqs"
	ddbstore "github.com/babysitter-go/babysitter/store/dynamodb"
)

// testBackends lists the backends the end-to-end story runs on: memory
// always; DynamoDB Local + fauxqs through internal/testenv, which skips
// that variant when no server can be had — and fails it when CI=true.
func testBackends() []backend {
	return []backend{memoryBackend, awsBackend}
}

// awsBackend is a fresh table and a fresh queue (with its dead-letter
// queue) on the local AWS-compatible servers.
var awsBackend = backend{
	name: "dynamodb+sqs",
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
