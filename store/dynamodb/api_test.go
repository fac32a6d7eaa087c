package dynamodb_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/internal/testenv"
	ddbstore "github.com/babysitter-go/babysitter/store/dynamodb"
)

// wrappedClient is the kind of client New and CreateTable take besides
// *dynamodb.Client: a struct embedding the interfaces, overriding some
// methods (here to count their calls) and passing the rest through.
type wrappedClient struct {
	ddbstore.API
	ddbstore.CreateTableAPI
	createTable, getItem, transactWriteItems atomic.Int64
}

func (c *wrappedClient) CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	c.createTable.Add(1)
	return c.CreateTableAPI.CreateTable(ctx, in, optFns...)
}

func (c *wrappedClient) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.getItem.Add(1)
	return c.API.GetItem(ctx, in, optFns...)
}

func (c *wrappedClient) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.transactWriteItems.Add(1)
	return c.API.TransactWriteItems(ctx, in, optFns...)
}

// TestWrappedClient runs CreateTable, CreateUser and GetUser on DynamoDB
// Local through a wrapped client and checks that the wrapper saw each call.
func TestWrappedClient(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	sdk := testenv.DynamoDBClient(t)
	c := &wrappedClient{API: sdk, CreateTableAPI: sdk}

	table := testenv.UniqueName(t, "wrapped")
	if err := ddbstore.CreateTable(ctx, c, table); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	s := ddbstore.New(c, table)
	u := newUser(babysitter.UserParent)
	must(t, "CreateUser", s.CreateUser(ctx, u))
	got, err := s.GetUser(ctx, u.Username)
	must(t, "GetUser", err)
	if got.Username != u.Username || got.Email != u.Email || got.FirstName != u.FirstName {
		t.Errorf("GetUser = %+v, want %+v", got, u)
	}
	if ct, gi, tw := c.createTable.Load(), c.getItem.Load(), c.transactWriteItems.Load(); ct != 1 || gi != 1 || tw != 1 {
		t.Errorf("calls through the wrapper: CreateTable=%d GetItem=%d TransactWriteItems=%d, want 1 each", ct, gi, tw)
	}
}
