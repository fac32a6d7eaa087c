package dynamodb_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/babysitter-go/babysitter"
	ddbstore "github.com/babysitter-go/babysitter/store/dynamodb"
	"github.com/babysitter-go/babysitter/store/dynamodb/ddbtest"
)

// TestPages walks a parent's jobs page by page: one Query per page (plus
// the parent's GetItem beside it after the first), the parent on every
// page, no empty last page, and a cursor that only fits its own list.
func TestPages(t *testing.T) {
	t.Parallel()
	s, calls, _, _ := countingStore(t)
	ctx := t.Context()
	p, other := newUser(babysitter.UserParent), newUser(babysitter.UserParent)
	must(t, "CreateUser", s.CreateUser(ctx, p))
	must(t, "CreateUser", s.CreateUser(ctx, other))
	var ids []string
	for range 5 {
		j := newJob(p.Username)
		must(t, "CreateJob", s.CreateJob(ctx, active(p), j))
		ids = append(ids, j.ID)
	}
	slices.Reverse(ids) // newest first

	for _, c := range []struct {
		limit int
		sizes []int
	}{{5, []int{5}}, {6, []int{5}}, {2, []int{2, 2, 1}}, {1, []int{1, 1, 1, 1, 1}}} {
		var got []string
		var sizes []int
		cursor := ""
		for page := 0; ; page++ {
			calls.Reset()
			u, jobs, err := s.ListJobsByParent(ctx, active(p), p.Username, babysitter.PageRequest{Limit: c.limit, Cursor: cursor})
			must(t, "ListJobsByParent", err)
			want := map[string]int{"Query": 1}
			if page > 0 {
				want["GetItem"] = 1
			}
			if !maps.Equal(calls.Calls(), want) {
				t.Errorf("limit %d, page %d: calls %s, want %s", c.limit, page, calls, ddbtest.Format(want))
			}
			if u.Username != p.Username {
				t.Errorf("limit %d, page %d: user %q", c.limit, page, u.Username)
			}
			sizes = append(sizes, len(jobs.Items))
			for _, j := range jobs.Items {
				got = append(got, j.ID)
			}
			if jobs.NextCursor == "" {
				break
			}
			cursor = jobs.NextCursor
			// The cursor fits this list only.
			if _, _, err := s.ListJobsByParent(ctx, admin, other.Username, babysitter.PageRequest{Cursor: cursor}); !errors.Is(err, babysitter.ErrInvalidInput) {
				t.Errorf("a cursor of %s's jobs on %s's: %v, want invalid input", p.Username, other.Username, err)
			}
			if _, err := s.ListJobsByStatus(ctx, admin, babysitter.JobOpen, babysitter.PageRequest{Cursor: cursor}); !errors.Is(err, babysitter.ErrInvalidInput) {
				t.Errorf("a cursor of %s's jobs on OPEN jobs: %v, want invalid input", p.Username, err)
			}
		}
		if !slices.Equal(got, ids) || !slices.Equal(sizes, c.sizes) {
			t.Errorf("limit %d: pages %v of %v, want %v of %v", c.limit, sizes, got, c.sizes, ids)
		}
	}
}

// TestHeaderNotInIndex: when the user's item is not (yet) in the byUser
// index — simulated by an item without its GSI1 keys — the list reads the
// user from the table instead of reporting it missing.
func TestHeaderNotInIndex(t *testing.T) {
	t.Parallel()
	s, calls, client, table := countingStore(t)
	ctx := t.Context()
	n := newUser(babysitter.UserNanny)
	must(t, "CreateUser", s.CreateUser(ctx, n))
	_, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(table),
		Key:              map[string]types.AttributeValue{"PK": sv("USER#" + n.Username), "SK": sv("USER#" + n.Username)},
		UpdateExpression: aws.String("REMOVE GSI1PK, GSI1SK"),
	})
	must(t, "UpdateItem", err)
	calls.Reset()
	u, apps, err := s.ListJobsAppliedTo(ctx, active(n), n.Username, babysitter.PageRequest{})
	must(t, "ListJobsAppliedTo", err)
	if u.Username != n.Username || len(apps.Items) != 0 || apps.NextCursor != "" {
		t.Errorf("got %+v, %+v", u, apps)
	}
	if want := map[string]int{"Query": 1, "GetItem": 1}; !maps.Equal(calls.Calls(), want) {
		t.Errorf("calls %s, want %s", calls, ddbtest.Format(want))
	}
	if _, _, err := s.ListJobsAppliedTo(ctx, admin, "nobody-"+runID, babysitter.PageRequest{}); !errors.Is(err, babysitter.ErrNotFound) {
		t.Errorf("a missing nanny: %v, want not found", err)
	}
}

// TestCreateTableTwice: CreateTable is idempotent on a table of the right
// shape and refuses one of another shape.
func TestCreateTableTwice(t *testing.T) {
	t.Parallel()
	client := newClient(t)
	table := newTable(t, client)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	must(t, "CreateTable again", ddbstore.CreateTable(ctx, client, table))

	other := table + "-other"
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(other),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
	})
	must(t, "CreateTable (other shape)", err)
	if err := ddbstore.CreateTable(ctx, client, other); err == nil {
		t.Error("CreateTable on a table of another shape: no error")
	} else {
		t.Log(err)
	}

	// A table of the previous version: the same keys and first two
	// indexes, without byCell.
	old := table + "-old"
	attr := func(n string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeTypeS}
	}
	key := func(h, r string) []types.KeySchemaElement {
		return []types.KeySchemaElement{{AttributeName: aws.String(h), KeyType: types.KeyTypeHash}, {AttributeName: aws.String(r), KeyType: types.KeyTypeRange}}
	}
	all := &types.Projection{ProjectionType: types.ProjectionTypeAll}
	_, err = client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(old),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			attr("PK"), attr("SK"), attr("GSI1PK"), attr("GSI1SK"), attr("GSI2PK"), attr("GSI2SK"),
		},
		KeySchema: key("PK", "SK"),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			{IndexName: aws.String(ddbstore.IndexByUser), KeySchema: key("GSI1PK", "GSI1SK"), Projection: all},
			{IndexName: aws.String(ddbstore.IndexByStatus), KeySchema: key("GSI2PK", "GSI2SK"), Projection: all},
		},
	})
	must(t, "CreateTable (without byCell)", err)
	if err := ddbstore.CreateTable(ctx, client, old); err == nil || !strings.Contains(err.Error(), ddbstore.IndexByCell) {
		t.Errorf("CreateTable on a table without %s: %v, want an error naming it", ddbstore.IndexByCell, err)
	}
}
