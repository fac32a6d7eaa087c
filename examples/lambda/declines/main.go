// Command declines is the SQS-triggered Lambda of the decline queue: it
// runs a babysitter.Decliner on each batch and returns the failed message
// IDs as batchItemFailures (the event source mapping has
// ReportBatchItemFailures), so only those are redelivered and, after the
// queue's maxReceiveCount, moved to the dead-letter queue.
//
// Environment: TABLE_NAME (the DynamoDB table), AWS_REGION (set by
// Lambda), LOG_LEVEL (optional).
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
	"github.com/babysitter-go/babysitter/transport/sqsevent"
)

func main() {
	log := lambdaenv.Logger()
	slog.SetDefault(log)
	decliner, err := newDecliner(context.Background(), log)
	if err != nil {
		log.Error("cannot start", "err", err)
		os.Exit(1)
	}
	lambda.Start(sqsevent.Handler(decliner.HandleBatch, log))
}

// newDecliner wires the Decliner to DynamoDB from the environment. The
// consumer only declines; it never sends, so it has no queue client and
// no sqs:SendMessage permission.
func newDecliner(ctx context.Context, log *slog.Logger) (*babysitter.Decliner, error) {
	table, err := lambdaenv.Require("TABLE_NAME")
	if err != nil {
		return nil, err
	}
	cfg, err := lambdaenv.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	store := dynamodb.New(awsdynamodb.NewFromConfig(cfg), table)
	return babysitter.NewDecliner(store, babysitter.DeclinerOptions{Logger: log}), nil
}
