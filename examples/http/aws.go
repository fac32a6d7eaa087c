package main

import (
	"context"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/babysitter-go/babysitter"
	sqsqueue "github.com/babysitter-go/babysitter/queue/sqs"
	ddbstore "github.com/babysitter-go/babysitter/store/dynamodb"
)

// createTableTimeout bounds -create-table, which waits for the table (and
// its indexes) to become ACTIVE.
const createTableTimeout = 2 * time.Minute

// newAWSBackends returns the DynamoDB store and the SQS decline queue (as
// both the Queue the Service sends to and the Source the poller consumes).
// The SDK's default configuration chain supplies credentials, and
// AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SQS point the clients at
// local servers (DynamoDB Local, fauxqs).
func newAWSBackends(ctx context.Context, cfg config) (babysitter.Store, babysitter.Queue, babysitter.Source, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, awsconfig.WithRegion(cfg.Region))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("aws config: %w", err)
	}
	if awsCfg.Region == "" {
		return nil, nil, nil, errors.New("no AWS region: set -region or AWS_REGION")
	}
	client := dynamodb.NewFromConfig(awsCfg)
	if cfg.CreateTable {
		ctx, cancel := context.WithTimeout(ctx, createTableTimeout)
		defer cancel()
		if err := ddbstore.CreateTable(ctx, client, cfg.Table); err != nil {
			return nil, nil, nil, err
		}
	}
	store := ddbstore.New(client, cfg.Table)
	queue, source, err := newSQSQueue(ctx, awsCfg, cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	return store, queue, source, nil
}

// newSQSQueue returns the decline queue at cfg.QueueURL, creating it and
// its dead-letter queue first with -create-queue. Received messages get
// cfg.VisibilityTimeout, the timeout the poller extends by, whatever the
// queue's own setting.
func newSQSQueue(ctx context.Context, awsCfg aws.Config, cfg config) (babysitter.Queue, babysitter.Source, error) {
	client := sqs.NewFromConfig(awsCfg)
	queueURL := cfg.QueueURL
	if cfg.CreateQueue {
		name := path.Base(queueURL)
		created, _, err := sqsqueue.CreateQueue(ctx, client, name, cfg.VisibilityTimeout, maxReceiveCount)
		if err != nil {
			return nil, nil, err
		}
		if created != queueURL {
			// The server decides the URL (host, account); use the real one.
			queueURL = created
		}
	}
	q := sqsqueue.New(client, queueURL, sqsqueue.Options{VisibilityTimeout: cfg.VisibilityTimeout})
	return q, q, nil
}
