// Command sweeper is the scheduled Lambda that finishes the declines a lost
// decline message left: every minute (an EventBridge schedule) it runs
// babysitter.Decliner.Sweep, which declines the PENDING applications of
// every job whose declines have been due for longer than SWEEP_AFTER —
// booked or cancelled, but its message never sent (the resolver timed out,
// SQS was unreachable) or dead-lettered. The declines follow from the
// committed booking itself, with no client action.
//
// Environment: TABLE_NAME (the DynamoDB table), AWS_REGION (set by
// Lambda), SWEEP_AFTER (optional, a Go duration, default 1m), LOG_LEVEL
// (optional).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/examples/lambda/internal/lambdaenv"
	"github.com/babysitter-go/babysitter/store/dynamodb"
)

func main() {
	log := lambdaenv.Logger()
	slog.SetDefault(log)
	decliner, err := newDecliner(context.Background(), log)
	if err != nil {
		log.Error("cannot start", "err", err)
		os.Exit(1)
	}
	lambda.Start(func(ctx context.Context, _ events.EventBridgeEvent) error {
		n, err := decliner.Sweep(ctx)
		log.InfoContext(ctx, "sweep done", "jobs", n)
		return err // a failed sweep is retried by the next schedule
	})
}

// newDecliner wires the Decliner to DynamoDB from the environment. The
// sweeper declines directly and sends nothing.
func newDecliner(ctx context.Context, log *slog.Logger) (*babysitter.Decliner, error) {
	table, err := lambdaenv.Require("TABLE_NAME")
	if err != nil {
		return nil, err
	}
	after := time.Minute
	if v := os.Getenv("SWEEP_AFTER"); v != "" {
		if after, err = time.ParseDuration(v); err != nil || after <= 0 {
			return nil, fmt.Errorf("SWEEP_AFTER=%q: want a positive Go duration such as 1m", v)
		}
	}
	cfg, err := lambdaenv.AWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	store := dynamodb.New(awsdynamodb.NewFromConfig(cfg), table)
	return babysitter.NewDecliner(store, babysitter.DeclinerOptions{Logger: log, SweepAfter: after}), nil
}
