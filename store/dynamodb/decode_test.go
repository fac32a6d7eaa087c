package dynamodb_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/babysitter-go/babysitter"
	ddbstore "github.com/babysitter-go/babysitter/store/dynamodb"
)

func sv(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// TestCorruptItems puts items the Store cannot read straight into the
// table: every read returns a clear *DecodeError (no panic, not a domain
// error kind).
func TestCorruptItems(t *testing.T) {
	t.Parallel()
	s, _, client, table := countingStore(t)
	ctx := t.Context()
	put := func(item map[string]types.AttributeValue) {
		t.Helper()
		_, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item})
		must(t, "PutItem", err)
	}
	put(map[string]types.AttributeValue{
		"PK": sv("USER#corrupt"), "SK": sv("USER#corrupt"), "username": sv("corrupt"),
		"GSI2PK": sv("USERTYPE#CORRUPT"), "GSI2SK": sv("USER#corrupt"),
		"createdOn": sv("not-a-time"),
	})
	put(map[string]types.AttributeValue{
		"PK": sv("JOB#corrupt"), "SK": sv("JOB#corrupt"), "id": sv("corrupt"),
		"cost": sv("45.00 EUR"), // Money must be a map
	})
	put(map[string]types.AttributeValue{
		"PK": sv("JOB#corrupt2"), "SK": sv("JOB#corrupt2"), "id": sv("corrupt2"),
		"startTime": sv("25:99"), // not a time of day
	})

	wantDecodeError := func(what string, err error) {
		t.Helper()
		var de *ddbstore.DecodeError
		if !errors.As(err, &de) {
			t.Fatalf("%s: got %v, want a *DecodeError", what, err)
		}
		for _, kind := range []error{babysitter.ErrNotFound, babysitter.ErrConflict, babysitter.ErrInvalidInput, babysitter.ErrForbidden} {
			if errors.Is(err, kind) {
				t.Errorf("%s: %v matches %v", what, err, kind)
			}
		}
		t.Logf("%s: %v", what, err)
	}
	_, err := s.GetUser(ctx, "corrupt")
	wantDecodeError("GetUser", err)
	_, err = s.ListUsers(ctx, admin, "CORRUPT", babysitter.PageRequest{Limit: 10})
	wantDecodeError("ListUsers", err)
	_, err = s.GetJob(ctx, admin, "corrupt")
	wantDecodeError("GetJob (money)", err)
	_, err = s.GetJob(ctx, admin, "corrupt2")
	wantDecodeError("GetJob (time of day)", err)
}

// TestMissingTable checks that a missing table is a clear backend error,
// ErrTableNotFound with the SDK's ResourceNotFoundException as its cause,
// and never the domain's ErrNotFound.
func TestMissingTable(t *testing.T) {
	t.Parallel()
	client := newClient(t)
	missing := ddbstore.New(client, "no-such-table-"+runID)
	ctx := t.Context()
	for _, c := range []struct {
		op string
		fn func() error
	}{
		{"GetUser", func() error { _, err := missing.GetUser(ctx, "someone"); return err }},
		{"CreateUser", func() error { return missing.CreateUser(ctx, newUser(babysitter.UserNanny)) }},
		{"ListUsers", func() error {
			_, err := missing.ListUsers(ctx, admin, babysitter.UserNanny, babysitter.PageRequest{})
			return err
		}},
		{"SetUserStatus", func() error {
			_, err := missing.SetUserStatus(ctx, "someone", babysitter.StatusVerified, timeNow())
			return err
		}},
		{"BookNanny", func() error {
			_, _, err := missing.BookNanny(ctx, babysitter.BookRequest{Guard: admin, ApplicationRef: babysitter.ApplicationRef{JobID: "j", ApplicationID: "a"}, At: timeNow()})
			return err
		}},
	} {
		err := c.fn()
		var rnf *types.ResourceNotFoundException
		if !errors.Is(err, ddbstore.ErrTableNotFound) || !errors.As(err, &rnf) || errors.Is(err, babysitter.ErrNotFound) {
			t.Errorf("%s on a missing table: %v (want ErrTableNotFound wrapping ResourceNotFoundException)", c.op, err)
			continue
		}
		t.Logf("%s: %v", c.op, err)
	}
}

// TestLegacyNannyItem: a nanny's item written while declines still
// counted PENDING applications carries pendingApplications. It reads as
// before, and the counter no longer stops anything: the nanny applies and
// leaves.
func TestLegacyNannyItem(t *testing.T) {
	t.Parallel()
	s, _, client, table := countingStore(t)
	ctx := t.Context()
	p, n := newUser(babysitter.UserParent), newUser(babysitter.UserNanny)
	must(t, "CreateUser", s.CreateUser(ctx, p))
	must(t, "CreateUser", s.CreateUser(ctx, n))
	_, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(table),
		Key:                       map[string]types.AttributeValue{"PK": sv("USER#" + n.Username), "SK": sv("USER#" + n.Username)},
		UpdateExpression:          aws.String("SET pendingApplications = :n"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberN{Value: "2"}},
	})
	must(t, "UpdateItem", err)

	got, err := s.GetUser(ctx, n.Username)
	must(t, "GetUser", err)
	if got.Username != n.Username || got.Type != babysitter.UserNanny || got.Status != n.Status {
		t.Errorf("GetUser of a legacy item: %+v", got)
	}
	j := newJob(p.Username)
	must(t, "CreateJob", s.CreateJob(ctx, active(p), j))
	must(t, "ApplyToJob", s.ApplyToJob(ctx, verified(n), newApplication(j.ID, n.Username)))
	must(t, "DeleteUser", s.DeleteUser(ctx, active(n), n.Username, time.Now()))
	if _, err := s.GetUser(ctx, n.Username); !errors.Is(err, babysitter.ErrNotFound) {
		t.Errorf("GetUser after DeleteUser: %v, want not found", err)
	}
}
