package dynamodb

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// API is the part of the DynamoDB client that a Store calls, and nothing
// more: *dynamodb.Client from aws-sdk-go-v2 implements it, and so does
// anything that wraps one — a client with tracing or metrics, a call
// counter, a fault injector — as the SDK advises for code that takes a
// client.
//
// The methods are the operations in the request counts of the package
// documentation; the IAM policy of a deployment needs their actions (plus
// those of the actions inside TransactWriteItems).
type API interface {
	GetItem(ctx context.Context, params *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	BatchGetItem(ctx context.Context, params *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	Query(ctx context.Context, params *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	UpdateItem(ctx context.Context, params *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, params *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	TransactWriteItems(ctx context.Context, params *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// CreateTableAPI is what CreateTable calls: CreateTable, and DescribeTable to
// wait until the table is ACTIVE. *dynamodb.Client implements it.
type CreateTableAPI interface {
	CreateTable(ctx context.Context, params *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, params *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// The SDK's client is both.
var (
	_ API            = (*dynamodb.Client)(nil)
	_ CreateTableAPI = (*dynamodb.Client)(nil)
)
