package dynamodb_test

import (
	"context"
	"fmt"
	"log"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/store/dynamodb"
)

// The Store of a deployment, on the table its template declares. Region,
// credentials and endpoint come from the SDK's default chain (environment,
// shared files, the instance or task role). The sweeper needs nothing
// else: it finishes the declines of the bookings whose decline message
// was lost (examples/lambda/sweeper runs it once a minute). A Service
// also needs the queue: see the queue/sqs example.
func ExampleNew() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	store := dynamodb.New(awsdynamodb.NewFromConfig(cfg), "babysitter")

	decliner := babysitter.NewDecliner(store, babysitter.DeclinerOptions{})
	jobs, err := decliner.Sweep(ctx)
	fmt.Println("jobs swept:", jobs, err)
}

// CreateTable makes the table and its indexes, for tests and local
// development (deployments declare it in their template); here on
// DynamoDB Local, which accepts any credentials the SDK finds
// (AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local will do). Setting
// AWS_ENDPOINT_URL_DYNAMODB instead of BaseEndpoint does the same without
// code. A table that exists already with the keys and indexes the Store
// needs is not an error.
func ExampleCreateTable() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"))
	if err != nil {
		log.Fatal(err)
	}
	client := awsdynamodb.NewFromConfig(cfg, func(o *awsdynamodb.Options) {
		o.BaseEndpoint = aws.String("http://localhost:8000")
	})
	if err := dynamodb.CreateTable(ctx, client, "babysitter-dev"); err != nil {
		log.Fatal(err)
	}
	store := dynamodb.New(client, "babysitter-dev")
	fmt.Printf("%T ready\n", store)
}
