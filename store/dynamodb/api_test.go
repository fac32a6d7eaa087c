package dynamodb_test

import (
	"context"
	"maps"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/internal/testenv"
	ddbstore "github.com/babysitter-go/babysitter/store/dynamodb"
	"github.com/babysitter-go/babysitter/store/dynamodb/ddbtest"
)

// wrappedClient is the kind of client New and CreateTable take besides
// *dynamodb.Client: a struct embedding the interfaces, overriding some
// methods (here to count them) and passing the rest through.
type wrappedClient struct {
	ddbstore.API
	ddbstore.CreateTableAPI

	mu    sync.Mutex
	calls map[string]int
}

func (c *wrappedClient) count(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls == nil {
		c.calls = map[string]int{}
	}
	c.calls[op]++
}

func (c *wrappedClient) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	got := maps.Clone(c.calls)
	c.calls = nil
	return got
}

func (c *wrappedClient) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.count("GetItem")
	return c.API.GetItem(ctx, in, optFns...)
}

func (c *wrappedClient) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.count("TransactWriteItems")
	return c.API.TransactWriteItems(ctx, in, optFns...)
}

func (c *wrappedClient) CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	c.count("CreateTable")
	return c.CreateTableAPI.CreateTable(ctx, in, optFns...)
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
	if got := c.take(); got["CreateTable"] != 1 {
		t.Errorf("CreateTable through the wrapper: calls %s, want CreateTable=1", ddbtest.Format(got))
	}

	s := ddbstore.New(c, table)
	u := newUser(babysitter.UserParent)
	must(t, "CreateUser", s.CreateUser(ctx, u))
	got, err := s.GetUser(ctx, u.Username)
	must(t, "GetUser", err)
	if got.Username != u.Username || got.Email != u.Email || got.FirstName != u.FirstName {
		t.Errorf("GetUser = %+v, want %+v", got, u)
	}
	if got, want := c.take(), map[string]int{"TransactWriteItems": 1, "GetItem": 1}; !maps.Equal(got, want) {
		t.Errorf("calls through the wrapper %s, want %s", ddbtest.Format(got), ddbtest.Format(want))
	}
}
