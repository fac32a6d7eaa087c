package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// CreateTable creates the table with its three indexes (on-demand capacity,
// PAY_PER_REQUEST) and waits until it is ACTIVE, for tests and local
// development; deployments declare the same table in their template.
//
// It is idempotent: when the table exists already it waits for it to be
// ACTIVE and returns nil if its key schema and indexes are the ones Store
// needs, or an error saying what differs. client is a *dynamodb.Client or
// anything wrapping one (see CreateTableAPI).
func CreateTable(ctx context.Context, client CreateTableAPI, table string) error {
	_, err := client.CreateTable(ctx, tableInput(table))
	var inUse *types.ResourceInUseException
	exists := errors.As(err, &inUse)
	if err != nil && !exists {
		return fmt.Errorf("dynamodb: create table %q: %w", table, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = time.Second
		o.MaxDelay = 10 * time.Second
	})
	out, err := waiter.WaitForOutput(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 5*time.Minute)
	if err != nil {
		return fmt.Errorf("dynamodb: wait for table %q: %w", table, err)
	}
	if exists {
		return checkSchema(out.Table)
	}
	return nil
}

func tableInput(table string) *dynamodb.CreateTableInput {
	attr := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			attr(attrPK), attr(attrSK), attr(attrGSI1PK), attr(attrGSI1SK), attr(attrGSI2PK), attr(attrGSI2SK),
			attr(attrGSI3PK), attr(attrGSI3SK),
		},
		KeySchema: keySchema(attrPK, attrSK),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			{
				IndexName:  aws.String(IndexByUser),
				KeySchema:  keySchema(attrGSI1PK, attrGSI1SK),
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
			},
			{
				IndexName:  aws.String(IndexByStatus),
				KeySchema:  keySchema(attrGSI2PK, attrGSI2SK),
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
			},
			{
				// Sparse: only OPEN jobs have GSI3PK/GSI3SK. ALL, so that
				// a nearby query is one Query per range, not a Query and a
				// BatchGetItem of every hit (see the package documentation).
				IndexName:  aws.String(IndexByCell),
				KeySchema:  keySchema(attrGSI3PK, attrGSI3SK),
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
			},
		},
	}
}

func keySchema(hash, rang string) []types.KeySchemaElement {
	return []types.KeySchemaElement{
		{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash},
		{AttributeName: aws.String(rang), KeyType: types.KeyTypeRange},
	}
}

// checkSchema compares an existing table with the one tableInput creates.
func checkSchema(t *types.TableDescription) error {
	want := tableInput(aws.ToString(t.TableName))
	same := func(a, b []types.KeySchemaElement) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if aws.ToString(a[i].AttributeName) != aws.ToString(b[i].AttributeName) || a[i].KeyType != b[i].KeyType {
				return false
			}
		}
		return true
	}
	if !same(t.KeySchema, want.KeySchema) {
		return fmt.Errorf("dynamodb: table %q exists with another key schema", aws.ToString(t.TableName))
	}
	for _, w := range want.GlobalSecondaryIndexes {
		found := false
		for _, g := range t.GlobalSecondaryIndexes {
			if aws.ToString(g.IndexName) == aws.ToString(w.IndexName) {
				found = same(g.KeySchema, w.KeySchema) && g.Projection != nil && g.Projection.ProjectionType == types.ProjectionTypeAll
			}
		}
		if !found {
			return fmt.Errorf("dynamodb: table %q exists without index %s(%s, %s) projecting ALL (a table made before it: add the index with UpdateTable)", aws.ToString(t.TableName),
				aws.ToString(w.IndexName), aws.ToString(w.KeySchema[0].AttributeName), aws.ToString(w.KeySchema[1].AttributeName))
		}
	}
	return nil
}
