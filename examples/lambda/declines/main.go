// Command declines is the SQS-triggered Lambda of the decline queue: it
// runs babysitter.Service.HandleDeclines on each batch and returns the
// failed message IDs as batchItemFailures (the event source mapping has
// ReportBatchItemFailures), so only those are redelivered and, after the
// queue's maxReceiveCount, moved to the dead-letter queue.
//
// Environment: TABLE_NAME (the DynamoDB table), AWS_REGION (set by
// Lambda), LOG_LEVEL (optional).
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/examples/lambda/internal/declines"
	"github.com/babysitter-go/babysitter/examples/lambda/internal/lambdaenv"
	"github.com/babysitter-go/babysitter/store/dynamodb"
)

func main() {
	log := lambdaenv.Logger()
	slog.SetDefault(log)
	svc, err := newService(context.Background(), log)
	if err != nil {
		log.Error("cannot start", "err", err)
		os.Exit(1)
	}
	lambda.Start(declines.Handler(svc.HandleDeclines, log))
}

// newService wires the Service to DynamoDB from the environment. The
// consumer only declines; it never sends, so it has no queue client and
// no sqs:SendMessage permission.
func newService(ctx context.Context, log *slog.Logger) (*babysitter.Service, error) {
	table, err := lambdaenv.Require("TABLE_NAME")
	if err != nil {
		return nil, err
	}
	cfg, err := lambdaenv.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	store := dynamodb.New(awsdynamodb.NewFromConfig(cfg), table)
	return babysitter.New(store, noSend{}, babysitter.Options{Logger: log}), nil
}

// noSend is the decline consumer's Queue: HandleDeclines never sends.
type noSend struct{}

func (noSend) Send(context.Context, []babysitter.Message) error {
	return errors.New("the decline consumer does not send messages")
}
