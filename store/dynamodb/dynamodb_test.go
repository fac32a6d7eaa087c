package dynamodb_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/internal/testenv"
	ddbstore "github.com/babysitter-go/babysitter/store/dynamodb"
	"github.com/babysitter-go/babysitter/store/dynamodb/ddbtest"
	"github.com/babysitter-go/babysitter/store/storetest"
)

// TestConformance runs the Store conformance suite on one table: the
// suite's cases never collide, so they share it.
func TestConformance(t *testing.T) {
	t.Parallel()
	client := testenv.DynamoDBClient(t)
	table := newTable(t, client)
	store := ddbstore.New(client, table)
	storetest.Run(t, func(t *testing.T) babysitter.Store { return store })
}

// newTable creates a table with a unique name for t.
func newTable(t testing.TB, client *dynamodb.Client) string {
	t.Helper()
	table := testenv.UniqueName(t, "ddb")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ddbstore.CreateTable(ctx, client, table); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	return table
}

// fastRetries keeps the SDK's retry policy but without its waits, so fault
// tests do not sleep a second per injected throttle.
func fastRetries(o *dynamodb.Options) {
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		so.MaxAttempts = 5
	})
}

// countingStore is a Store on a new table whose client counts its calls.
func countingStore(t *testing.T, optFns ...func(*dynamodb.Options)) (*ddbstore.Store, *ddbtest.CallCounter, *dynamodb.Client) {
	t.Helper()
	calls := &ddbtest.CallCounter{}
	optFns = append(optFns, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, calls.Register) })
	client := testenv.DynamoDBClient(t, optFns...)
	table := newTable(t, client)
	calls.Reset()
	return ddbstore.New(client, table), calls, client
}
