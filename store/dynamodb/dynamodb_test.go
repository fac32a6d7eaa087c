package dynamodb_test

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

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
func countingStore(t *testing.T, optFns ...func(*dynamodb.Options)) (*ddbstore.Store, *ddbtest.CallCounter, *dynamodb.Client, string) {
	t.Helper()
	calls := &ddbtest.CallCounter{}
	// The counter first, so it sees every attempt, even one a fault
	// middleware added after it fails.
	count := func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, calls.Register) }
	client := testenv.DynamoDBClient(t, append([]func(*dynamodb.Options){count}, optFns...)...)
	table := newTable(t, client)
	calls.Reset()
	return ddbstore.New(client, table), calls, client, table
}

// ---- fixtures ----

var seq atomic.Int64

func newUser(typ babysitter.UserType) babysitter.User {
	name := fmt.Sprintf("d%d-%s", seq.Add(1), runID)
	t := time.Now().UTC()
	lat, lon := 52.520008, -13.404954
	return babysitter.User{
		ID: uuid.Must(uuid.NewV7()).String(), Username: name, Email: name + "@example.com",
		Type: typ, Status: babysitter.StatusVerified,
		Profile: babysitter.Profile{
			FirstName: "Ada", LastName: "Lovelace",
			DateOfBirth: babysitter.Date{Year: 1990, Month: time.December, Day: 10},
			Latitude:    &lat, Longitude: &lon,
			SpokenLanguages: []string{"en", "de"},
			HourlyRate:      &babysitter.Money{Amount: 1850, Currency: "EUR"},
		},
		CreatedOn: t, UpdatedOn: t, Version: 1,
	}
}

func newJob(parent string) babysitter.Job {
	t := time.Now().UTC()
	return babysitter.Job{
		ID: uuid.Must(uuid.NewV7()).String(), ParentUsername: parent,
		JobDetails: babysitter.JobDetails{
			JobType: babysitter.JobBabysitting, Description: "Two kids.", NumberOfKids: 2,
			StartDate: babysitter.Date{Year: 2030, Month: time.May, Day: 1},
			EndDate:   babysitter.Date{Year: 2030, Month: time.May, Day: 2},
			StartTime: 18*60 + 30, EndTime: 75,
			Address: "2 Main Street", City: "Berlin", Latitude: 52.5, Longitude: 13.4,
			Cost: babysitter.Money{Amount: 4500, Currency: "EUR"},
		},
		Status: babysitter.JobOpen, CreatedOn: t, UpdatedOn: t, Version: 1,
	}
}

func newApplication(jobID, nanny string) babysitter.Application {
	t := time.Now().UTC()
	return babysitter.Application{
		ID: uuid.Must(uuid.NewV7()).String(), JobID: jobID, NannyUsername: nanny,
		Message: "Hello.", Status: babysitter.ApplicationPending, CreatedOn: t, UpdatedOn: t,
	}
}

var runID = uuid.NewString()[:8]

func must(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// admin is the Guard of an admin: no account, manages every job.
var admin = babysitter.Guard{Actor: babysitter.Actor{Username: "root-" + runID, Role: babysitter.RoleAdmin}}

// guardOf is the Guard of u acting in the role of their account type.
func guardOf(u babysitter.User, allow ...babysitter.AccountStatus) babysitter.Guard {
	role := babysitter.RoleParent
	if u.Type == babysitter.UserNanny {
		role = babysitter.RoleNanny
	}
	return babysitter.Guard{Actor: babysitter.Actor{Username: u.Username, Role: role}, Allow: allow}
}

// active is the Guard of most operations by u, verified the one of
// ApplyToJob and BookNanny (the Service's defaults).
func active(u babysitter.User) babysitter.Guard {
	return guardOf(u, babysitter.StatusUnverified, babysitter.StatusVerified)
}

func verified(u babysitter.User) babysitter.Guard { return guardOf(u, babysitter.StatusVerified) }

// book is the BookRequest of parent p for an application, VERIFIED
// applicants only.
func book(p babysitter.User, jobID, applicationID string, at time.Time) babysitter.BookRequest {
	return babysitter.BookRequest{
		Guard:          verified(p),
		ApplicationRef: babysitter.ApplicationRef{JobID: jobID, ApplicationID: applicationID},
		Applicant:      []babysitter.AccountStatus{babysitter.StatusVerified},
		At:             at,
	}
}

// openJobs reads a user item's openJobs counter straight from the table.
func openJobs(t testing.TB, client *dynamodb.Client, table, username string) int64 {
	t.Helper()
	out, err := client.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "USER#" + username}, "SK": &types.AttributeValueMemberS{Value: "USER#" + username}},
		ConsistentRead: aws.Bool(true),
	})
	must(t, "GetItem", err)
	v, ok := out.Item["openJobs"].(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("user %s: no number openJobs in %v", username, out.Item)
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	must(t, "ParseInt", err)
	return n
}

func newClient(t testing.TB) *dynamodb.Client { return testenv.DynamoDBClient(t) }

func timeNow() time.Time { return time.Now().UTC() }

// pendingOf lists the PENDING applications of a job, every page, as an
// admin sees them.
func pendingOf(t testing.TB, s *ddbstore.Store, jobID string) []babysitter.Application {
	t.Helper()
	var out []babysitter.Application
	p := babysitter.PageRequest{Limit: babysitter.MaxLimit}
	for {
		_, page, err := s.ListApplicationsForJob(t.Context(), admin, jobID, p)
		if err != nil {
			t.Fatalf("ListApplicationsForJob: %v", err)
		}
		for _, a := range page.Items {
			if a.Status == babysitter.ApplicationPending {
				out = append(out, a)
			}
		}
		if page.NextCursor == "" {
			return out
		}
		p.Cursor = page.NextCursor
	}
}

// noErasure is the error of a DeleteUser whose Erasure does not matter.
func noErasure(_ babysitter.Erasure, err error) error { return err }
