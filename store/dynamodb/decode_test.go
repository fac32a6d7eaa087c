package dynamodb_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

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

	// An item of a schema version newer than this build reads.
	put(map[string]types.AttributeValue{
		"PK": sv("USER#future"), "SK": sv("USER#future"), "username": sv("future"), "type": sv("NANNY"),
		"GSI2PK": sv("USERTYPE#FUTURE"), "GSI2SK": sv("USER#future"),
		"v": &types.AttributeValueMemberN{Value: "3"},
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
	for what, fn := range map[string]func() error{
		"GetUser (newer schema)": func() error { _, err := s.GetUser(ctx, "future"); return err },
		"ListUsers (newer schema)": func() error {
			_, err := s.ListUsers(ctx, admin, "FUTURE", babysitter.PageRequest{Limit: 10})
			return err
		},
	} {
		err := fn()
		wantDecodeError(what, err)
		if !errors.Is(err, ddbstore.ErrNewerSchema) {
			t.Errorf("%s: %v, want ErrNewerSchema", what, err)
		}
	}
}

// TestStoredItemsCarryVersion writes every item type through the Store —
// users, email reservations (one moved by UpdateUser), a job, an
// application and its marker, a review and its marker, a tombstone — and
// reads the table raw: every item has the schema version v = 1.
func TestStoredItemsCarryVersion(t *testing.T) {
	t.Parallel()
	s, _, client, table := countingStore(t)
	ctx := t.Context()
	now := timeNow()
	p, n := newUser(babysitter.UserParent), newUser(babysitter.UserNanny)
	must(t, "CreateUser", s.CreateUser(ctx, p))
	must(t, "CreateUser", s.CreateUser(ctx, n))
	next := n
	next.Email, next.Version, next.UpdatedOn = "moved-"+n.Email, 2, now
	must(t, "UpdateUser", s.UpdateUser(ctx, active(n), n.Email, next))
	j := newJob(p.Username)
	must(t, "CreateJob", s.CreateJob(ctx, active(p), j))
	a := newApplication(j.ID, n.Username)
	must(t, "ApplyToJob", s.ApplyToJob(ctx, verified(n), a))
	_, _, err := s.BookNanny(ctx, book(p, j.ID, a.ID, now))
	must(t, "BookNanny", err)
	_, err = s.TransitionJob(ctx, admin, babysitter.JobTransition{JobID: j.ID, From: babysitter.JobClosed, To: babysitter.JobCompleted, At: now})
	must(t, "TransitionJob", err)
	must(t, "CreateReview", s.CreateReview(ctx, active(p), babysitter.Review{ID: uuid.Must(uuid.NewV7()).String(), JobID: j.ID,
		Direction: babysitter.ReviewOfNanny, Reviewer: p.Username, Reviewee: n.Username, Rating: 5,
		Answers: map[string]bool{"punctual": true}, CreatedOn: now}))
	must(t, "DeleteUser", noErasure(s.DeleteUser(ctx, active(n), n.Username, now)))

	kinds := map[string]int{}
	in := &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)}
	for {
		out, err := client.Scan(ctx, in)
		must(t, "Scan", err)
		for _, item := range out.Items {
			pk, sk := item["PK"].(*types.AttributeValueMemberS).Value, item["SK"].(*types.AttributeValueMemberS).Value
			kind, _, _ := strings.Cut(pk, "#")
			k2, _, _ := strings.Cut(sk, "#")
			kinds[kind+" / "+k2]++
			if v, ok := item["v"].(*types.AttributeValueMemberN); !ok || v.Value != "1" {
				t.Errorf("item %s / %s: v = %v, want the number 1", pk, sk, item["v"])
			}
		}
		if out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	want := map[string]int{
		"USER / USER": 1, "USEREMAIL / USEREMAIL": 1, // the parent's; the nanny's are deleted
		"JOB / JOB": 1, "JOB / APPLICATION": 1, "JOB / APPLICANT": 1, "JOB / REVIEW": 1,
		"USER / REVIEW": 1, "USER / TOMBSTONE": 1,
		"DECLINES / JOB": 1, // the booking's outbox item: no consumer ran
	}
	if d := cmp.Diff(want, kinds); d != "" {
		t.Errorf("items by PK / SK prefix (-want +got):\n%s", d)
	}
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
			_, err := missing.SetUserStatus(ctx, babysitter.StatusUpdate{Username: "someone", Status: babysitter.StatusVerified, At: timeNow()})
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
	must(t, "DeleteUser", noErasure(s.DeleteUser(ctx, active(n), n.Username, time.Now())))
	if _, err := s.GetUser(ctx, n.Username); !errors.Is(err, babysitter.ErrNotFound) {
		t.Errorf("GetUser after DeleteUser: %v, want not found", err)
	}
}
