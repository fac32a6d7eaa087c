package dynamodb_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/uuid"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/store/dynamodb/ddbtest"
)

// TestFaults makes the first attempts of writes fail with a retryable
// error — before the request is sent, and after the server applied it (the
// response lost) — and checks that each operation still succeeds exactly
// once: no double counter change, no spurious conflict.
func TestFaults(t *testing.T) {
	for _, when := range []struct {
		name string
		when ddbtest.When
	}{{"before send", ddbtest.BeforeSend}, {"after commit", ddbtest.AfterCommit}} {
		t.Run(when.name, func(t *testing.T) {
			t.Parallel()
			faults := &ddbtest.Faults{}
			s, calls, client, table := countingStore(t, fastRetries, func(o *dynamodb.Options) {
				o.APIOptions = append(o.APIOptions, faults.Register)
			})
			ctx := t.Context()
			now := time.Now().UTC()
			// fail injects n faults into op's next attempts, runs fn and
			// checks that all of them were injected and retried.
			fail := func(what, op string, n int, fn func() error) {
				t.Helper()
				calls.Reset()
				faults.Fail(op, n, when.when)
				before := faults.Injected(op)
				if err := fn(); err != nil {
					t.Fatalf("%s with %d faulty attempts of %s: %v", what, n, op, err)
				}
				// After a commit the retried write may fail its condition
				// (UpdateItem has no idempotency token): that ends the
				// retries early, and Store must see its own write in the
				// item the failure returns.
				got := faults.Injected(op) - before
				if got != n && !(when.when == ddbtest.AfterCommit && op == "UpdateItem" && got == 1) {
					t.Fatalf("%s: %d faults injected, want %d", what, got, n)
				}
				// Each injected fault cost the SDK one more attempt. At
				// least: a loaded machine may add a retry of its own (a
				// timeout), which is not what this test is about.
				n = got
				if a, c := calls.Attempts()[op], calls.Calls()[op]; a < c+n {
					t.Errorf("%s: %d attempts of %s for %d calls, want at least %d more", what, a, op, c, n)
				}
			}

			parent, nanny := newUser(babysitter.UserParent), newUser(babysitter.UserNanny)
			fail("CreateUser", "TransactWriteItems", 2, func() error { return s.CreateUser(ctx, parent) })
			must(t, "CreateUser", s.CreateUser(ctx, nanny))

			fail("SetUserStatus", "UpdateItem", 2, func() error {
				_, err := s.SetUserStatus(ctx, babysitter.StatusUpdate{Username: parent.Username, Status: babysitter.StatusVerified, At: now})
				return err
			})
			// An upload request recorded once, not twice, whichever attempt
			// committed (a request already recorded changes nothing).
			up := babysitter.Upload{ID: "0123456789abcdef0123456789abcdef", Kind: babysitter.UploadDocument, ContentType: "image/png", Size: 1, RequestedOn: now}
			fail("UpdateUploads", "UpdateItem", 2, func() error {
				_, err := s.UpdateUploads(ctx, active(parent), babysitter.UploadChange{Username: parent.Username, Request: &up, At: now})
				return err
			})
			if u, err := s.GetUser(ctx, parent.Username); err != nil || len(u.Uploads.Requested) != 1 || u.Uploads.Version != 1 {
				t.Fatalf("after UpdateUploads: %+v, %v; want one request, version 1", u.Uploads, err)
			}
			next := parent
			next.FirstName, next.Version, next.UpdatedOn = "Grace", 2, now
			fail("UpdateUser", "UpdateItem", 2, func() error { return s.UpdateUser(ctx, active(parent), parent.Email, next) })
			if u, err := s.GetUser(ctx, parent.Username); err != nil || u.Version != 2 || u.FirstName != "Grace" {
				t.Fatalf("after UpdateUser: %+v, %v", u, err)
			}

			j := newJob(parent.Username)
			fail("CreateJob", "TransactWriteItems", 2, func() error { return s.CreateJob(ctx, active(parent), j) })
			if open := openJobs(t, client, table, parent.Username); open != 1 {
				t.Errorf("openJobs = %d after one CreateJob, want 1", open)
			}
			nj := j
			nj.Description, nj.Version, nj.UpdatedOn = "Edited.", 2, now
			fail("UpdateJob", "UpdateItem", 2, func() error { return s.UpdateJob(ctx, admin, nj) })

			a := newApplication(j.ID, nanny.Username)
			fail("ApplyToJob", "TransactWriteItems", 2, func() error { return s.ApplyToJob(ctx, verified(nanny), a) })
			if pending := pendingOf(t, s, j.ID); len(pending) != 1 {
				t.Errorf("after one ApplyToJob: %d PENDING applications, want 1", len(pending))
			}

			fail("BookNanny", "TransactWriteItems", 2, func() error {
				got, _, err := s.BookNanny(ctx, book(parent, j.ID, a.ID, now))
				if err == nil && got.Status != babysitter.JobClosed {
					t.Errorf("BookNanny returned a %s job", got.Status)
				}
				return err
			})
			if open := openJobs(t, client, table, parent.Username); open != 0 {
				t.Errorf("openJobs = %d after the booking, want 0", open)
			}

			fail("TransitionJob", "UpdateItem", 2, func() error {
				got, err := s.TransitionJob(ctx, admin, babysitter.JobTransition{JobID: j.ID, From: babysitter.JobClosed, To: babysitter.JobCompleted, At: now})
				if err == nil && got.Status != babysitter.JobCompleted {
					t.Errorf("TransitionJob returned a %s job", got.Status)
				}
				return err
			})
			got, err := s.GetJob(ctx, admin, j.ID)
			must(t, "GetJob", err)
			if got.Status != babysitter.JobCompleted || got.Description != "Edited." || got.AcceptedApplicationID != a.ID ||
				got.AcceptedNanny != nanny.Username {
				t.Errorf("job after the faults: %+v", got)
			}

			r := babysitter.Review{ID: uuid.Must(uuid.NewV7()).String(), JobID: j.ID, Direction: babysitter.ReviewOfNanny,
				Reviewer: parent.Username, Reviewee: nanny.Username, Rating: 4,
				Answers: map[string]bool{"punctual": true}, CreatedOn: now}
			fail("CreateReview", "TransactWriteItems", 2, func() error { return s.CreateReview(ctx, active(parent), r) })
			u, err := s.GetUser(ctx, nanny.Username)
			must(t, "GetUser", err)
			if u.Rating != (babysitter.Rating{Count: 1, Sum: 4}) {
				t.Errorf("rating after one CreateReview = %+v, want {1 4}", u.Rating)
			}

			// A second job with a PENDING application, booked elsewhere:
			// its decline writes the application once.
			other := newUser(babysitter.UserNanny)
			must(t, "CreateUser", s.CreateUser(ctx, other))
			j2 := newJob(parent.Username)
			must(t, "CreateJob", s.CreateJob(ctx, active(parent), j2))
			a2, a3 := newApplication(j2.ID, nanny.Username), newApplication(j2.ID, other.Username)
			must(t, "ApplyToJob", s.ApplyToJob(ctx, verified(nanny), a2))
			must(t, "ApplyToJob", s.ApplyToJob(ctx, verified(other), a3))
			_, _, err = s.BookNanny(ctx, book(parent, j2.ID, a2.ID, now))
			must(t, "BookNanny", err)
			fail("DeclinePending", "TransactWriteItems", 2, func() error {
				res, err := s.DeclinePending(ctx, j2.ID, now)
				if err == nil && (len(res.Declined) != 1 || res.Declined[0] != a3.ID) {
					t.Errorf("DeclinePending: %+v, want %s declined", res, a3.ID)
				}
				return err
			})
			if pending := pendingOf(t, s, j2.ID); len(pending) != 0 {
				t.Errorf("after DeclinePending: %d PENDING applications", len(pending))
			}

			// The nanny leaves — a PENDING application does not stop that —
			// and the username stays taken.
			j3 := newJob(parent.Username)
			must(t, "CreateJob", s.CreateJob(ctx, active(parent), j3))
			must(t, "ApplyToJob", s.ApplyToJob(ctx, verified(other), newApplication(j3.ID, other.Username)))
			fail("DeleteUser", "TransactWriteItems", 2, func() error { return noErasure(s.DeleteUser(ctx, active(other), other.Username, time.Now())) })
			if _, err := s.GetUser(ctx, other.Username); !errors.Is(err, babysitter.ErrNotFound) {
				t.Errorf("GetUser after DeleteUser: %v, want not found", err)
			}
			if err := s.CreateUser(ctx, other); !errors.Is(err, babysitter.ErrAlreadyExists) {
				t.Errorf("CreateUser of the deleted username: %v, want already exists", err)
			}
		})
	}
}

// TestClientRequestTokenAutoFill checks that the SDK fills in a
// ClientRequestToken on its own and keeps it across its retries: a raw
// TransactWriteItems without a token, whose first attempt commits and
// whose response is lost, is retried and answered with success, and the
// ADD it holds is applied once.
func TestClientRequestTokenAutoFill(t *testing.T) {
	t.Parallel()
	faults := &ddbtest.Faults{}
	var tokens []string
	_, _, client, table := countingStore(t, fastRetries, func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, faults.Register)
	})
	key := map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "TOKEN#test"}, "SK": &types.AttributeValueMemberS{Value: "TOKEN#test"},
	}
	faults.Fail("TransactWriteItems", 1, ddbtest.AfterCommit)
	in := &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{{Update: &types.Update{
		TableName:                 aws.String(table),
		Key:                       key,
		UpdateExpression:          aws.String("ADD n :one"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}},
	}}}}
	_, err := client.TransactWriteItems(t.Context(), in, func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, recordToken(&tokens))
	})
	must(t, "TransactWriteItems", err)
	if faults.Injected("TransactWriteItems") != 1 {
		t.Fatal("no fault injected")
	}
	if in.ClientRequestToken == nil || *in.ClientRequestToken == "" {
		t.Fatal("the SDK did not fill in ClientRequestToken")
	}
	// Two attempts at least (the faulty one and its retry; a loaded machine
	// may add one), all with the same token.
	if len(tokens) < 2 || slices.ContainsFunc(tokens, func(tok string) bool { return tok != *in.ClientRequestToken }) {
		t.Errorf("tokens per attempt: %q, want %q on each of at least two attempts", tokens, *in.ClientRequestToken)
	}
	out, err := client.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
	must(t, "GetItem", err)
	if n := out.Item["n"].(*types.AttributeValueMemberN).Value; n != "1" {
		t.Errorf("n = %s after one idempotent transaction, want 1", n)
	}
}

// recordToken records the ClientRequestToken of every attempt.
func recordToken(tokens *[]string) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("recordToken",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				// The token as sent: read the serialized body, then rewind it.
				req := in.Request.(*smithyhttp.Request)
				body, err := io.ReadAll(req.GetStream())
				if err != nil {
					return middleware.FinalizeOutput{}, middleware.Metadata{}, err
				}
				if err := req.RewindStream(); err != nil {
					return middleware.FinalizeOutput{}, middleware.Metadata{}, err
				}
				var sent struct{ ClientRequestToken string }
				if err := json.Unmarshal(body, &sent); err != nil {
					return middleware.FinalizeOutput{}, middleware.Metadata{}, err
				}
				*tokens = append(*tokens, sent.ClientRequestToken)
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	}
}
