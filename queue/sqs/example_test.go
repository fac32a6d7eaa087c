package sqs_test

import (
	"context"
	"fmt"
	"log"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/queue/sqs"
	"github.com/babysitter-go/babysitter/store/dynamodb"
)

// A production process: the Service on DynamoDB sends each job's decline
// message to the queue, and the same queue is the Source of the decline
// consumer, a Poller, running beside it (as in examples/http; on Lambda,
// examples/lambda/declines runs the same HandleBatch). Region, credentials
// and endpoints come from the SDK's default chain. SIGTERM stops the
// consumer after the batches in flight.
func ExampleNew() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	queue := sqs.New(awssqs.NewFromConfig(cfg), "https://sqs.eu-west-1.amazonaws.com/123456789012/babysitter-declines",
		sqs.Options{VisibilityTimeout: time.Minute}) // and 20 s long polls
	store := dynamodb.New(awsdynamodb.NewFromConfig(cfg), "babysitter")
	svc := babysitter.New(store, queue, babysitter.Options{})

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	decliner := babysitter.NewDecliner(store, babysitter.DeclinerOptions{})
	go decliner.RunSweeper(ctx, time.Minute)
	consumer := &babysitter.Poller{Source: queue, Handler: decliner.HandleBatch, VisibilityTimeout: time.Minute}
	go func() {
		if err := consumer.Run(ctx); err != nil {
			log.Fatal(err) // only a misconfigured Poller
		}
	}()

	serve(ctx, svc) // your transport: examples/http, an AppSync resolver …
}

// serve stands for the program's transport, which calls the Service for
// each request until ctx is done.
func serve(ctx context.Context, svc *babysitter.Service) { <-ctx.Done() }

// CreateQueue makes the decline queue and its dead-letter queue, for tests
// and local development (deployments declare them in their template).
// With AWS_ENDPOINT_URL_SQS pointing at a local SQS emulator the default
// configuration reaches it there.
func ExampleCreateQueue() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	client := awssqs.NewFromConfig(cfg)
	// A message received 5 times and still not deleted moves to the
	// dead-letter queue, babysitter-declines-dlq.
	url, dlqURL, err := sqs.CreateQueue(ctx, client, "babysitter-declines", 30*time.Second, 5)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(url, dlqURL)
	queue := sqs.New(client, url, sqs.Options{})
	fmt.Printf("%T ready\n", queue)
}
