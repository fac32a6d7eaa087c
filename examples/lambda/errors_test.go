package lambda_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/babysitter-go/babysitter"
	qmemory "github.com/babysitter-go/babysitter/queue/memory"
	smemory "github.com/babysitter-go/babysitter/store/memory"
	"github.com/babysitter-go/babysitter/transport/appsync"
)

func memoryHarness(t *testing.T) *harness {
	q := qmemory.New(qmemory.Options{WaitTime: -1})
	return newHarness(t, smemory.New(), q, q)
}

// Each error kind of the library reaches AppSync with its errorType.
func TestErrorTypes(t *testing.T) {
	h := memoryHarness(t)
	k := newEventKit(t)
	r := runStory(t, h)

	t.Run("NotFound", func(t *testing.T) {
		h.t = t
		got := h.wantError(k.anonymous("Query", "getUser", obj{"username": "nobody"}), appsync.TypeNotFound)
		if !strings.Contains(got.Message, "not found") || strings.Contains(got.Message, "GetUser:") {
			t.Fatalf("message %q", got.Message)
		}
		h.wantError(k.as("alice", parentGroups, "Query", "getJob", obj{"jobId": "0197a0d2-0000-7000-8000-000000000000"}), appsync.TypeNotFound)
	})
	t.Run("AlreadyExists", func(t *testing.T) {
		h.t = t
		got := h.wantError(k.cognito, appsync.TypeAlreadyExists)
		if !strings.Contains(got.Message, "username") {
			t.Fatalf("message %q does not name the field", got.Message)
		}
		// Another account with alice's email.
		ev := k.as("alicia", parentGroups, "Mutation", "createUser", clone(k.cognito["arguments"]).(obj))
		got = h.wantError(ev, appsync.TypeAlreadyExists)
		if !strings.Contains(got.Message, "email") {
			t.Fatalf("message %q does not name the field", got.Message)
		}
	})
	t.Run("InvalidInput", func(t *testing.T) {
		h.t = t
		in := jobInput()
		in["numberOfKids"] = 0
		in["city"] = ""
		in["cost"] = obj{"amount": 6000, "currency": "XXX"}
		got := h.wantError(k.as("alice", parentGroups, "Mutation", "createJob", obj{"job": in}), appsync.TypeInvalidInput)
		for _, f := range []string{"numberOfKids", "city", "cost.currency"} {
			if !strings.Contains(got.Message, f) {
				t.Errorf("message %q lacks field %s", got.Message, f)
			}
		}
		in = jobInput()
		in["startTime"] = "25:99"
		got = h.wantError(k.as("alice", parentGroups, "Mutation", "createJob", obj{"job": in}), appsync.TypeInvalidInput)
		if !strings.Contains(got.Message, "startTime") {
			t.Fatalf("message %q", got.Message)
		}
		h.wantError(k.as("nina", nannyGroups, "Query", "listAllJobs", obj{"jobStatus": "OPEN", "cursor": "garbage"}), appsync.TypeInvalidInput)
	})
	t.Run("Forbidden", func(t *testing.T) {
		h.t = t
		h.wantError(k.as("nina", nannyGroups, "Mutation", "createJob", obj{"job": jobInput()}), appsync.TypeForbidden)
		h.wantError(k.as("nick", nannyGroups, "Query", "listJobsAppliedTo", obj{"username": "nina"}), appsync.TypeForbidden)
		// In Cognito but in no group of this API.
		h.wantError(k.as("mallory", []string{"guests"}, "Query", "getJob", obj{"jobId": r.jobID}), appsync.TypeForbidden)
	})
	t.Run("Unauthenticated", func(t *testing.T) {
		h.t = t
		// AppSync's @aws_cognito_user_pools stops this first; the library
		// refuses anyway.
		h.wantError(k.anonymous("Mutation", "createJob", obj{"job": jobInput()}), appsync.TypeUnauthenticated)
	})
	t.Run("Conflict", func(t *testing.T) {
		h.t = t
		h.wantError(k.as("alice", parentGroups, "Mutation", "bookNanny", obj{"jobId": r.jobID, "applicationId": r.nickApp}), appsync.TypeConflict)
		h.wantError(k.as("alice", parentGroups, "Mutation", "cancelJob", obj{"jobId": r.jobID}), appsync.TypeConflict)
	})
}

// failingQueue refuses every send.
type failingQueue struct{}

func (failingQueue) Send(context.Context, []babysitter.Message) error {
	return errors.New("sqs: SendMessageBatch: connection reset")
}

// A booking whose decline message cannot be sent commits and is answered
// as booked, with declinesQueued 0; the sweeper declines the other
// application with no client action, and reconcileJob may hurry it.
func TestBookingWhenTheQueueFails(t *testing.T) {
	store := smemory.New()
	q := qmemory.New(qmemory.Options{WaitTime: -1})
	h := newHarness(t, store, q, q)
	k := newEventKit(t)
	h.must(k.cognito)
	h.must(k.claims)
	h.must(k.as("nick", nannyGroups, "Mutation", "createUser", obj{"user": obj{
		"email": "nick@example.com", "firstName": "Nick", "lastName": "N", "dateOfBirth": "1995-06-30"}}))
	h.verify(k, "alice", parentGroups)
	h.verify(k, "nina", nannyGroups)
	h.verify(k, "nick", nannyGroups)
	job := h.must(k.as("alice", parentGroups, "Mutation", "createJob", obj{"job": jobInput()}))
	ninaApp := h.must(k.as("nina", nannyGroups, "Mutation", "applyToJob", obj{"application": obj{"jobId": job["id"]}}))
	nickApp := h.must(k.as("nick", nannyGroups, "Mutation", "applyToJob", obj{"application": obj{"jobId": job["id"]}}))

	broken := newHarness(t, store, failingQueue{}, q)
	b := broken.must(k.as("alice", parentGroups, "Mutation", "bookNanny", obj{"jobId": job["id"], "applicationId": ninaApp["id"]}))
	if b["declinesQueued"] != float64(0) || get(b, "job", "jobStatus") != "CLOSED" {
		t.Fatalf("booking with the queue down: %v", b)
	}
	if !strings.Contains(broken.logs.String(), "connection reset") {
		t.Fatal("the queue's error is not logged")
	}
	// Nothing reached the queue; the sweeper, once the declines are due
	// long enough, declines nick.
	decliner := babysitter.NewDecliner(store, babysitter.DeclinerOptions{Now: func() time.Time { return h.now.Add(time.Hour) }})
	if n, err := decliner.Sweep(context.Background()); err != nil || n != 1 {
		t.Fatalf("Sweep: %d jobs, %v; want 1", n, err)
	}
	_, got, err := store.ListApplicationsForJob(context.Background(), babysitter.Guard{Actor: babysitter.Actor{Username: "root", Role: babysitter.RoleAdmin}},
		job["id"].(string), babysitter.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range got.Items {
		if a.ID == nickApp["id"] && a.Status != babysitter.ApplicationDeclined {
			t.Errorf("nick's application is %s after the sweep", a.Status)
		}
	}

	// reconcileJob sends the job's message, harmless now.
	rec := h.must(k.as("alice", parentGroups, "Mutation", "reconcileJob", obj{"jobId": job["id"]}))
	if rec["declinesQueued"] != float64(1) {
		t.Fatalf("reconcileJob: %v", rec)
	}
	if _, failed := h.drain(context.Background()); len(failed) != 0 {
		t.Fatalf("failed: %v", failed)
	}
}

// brokenStore fails reads with an error that matches no kind.
type brokenStore struct{ *smemory.Store }

func (brokenStore) GetUser(context.Context, string) (babysitter.User, error) {
	return babysitter.User{}, errors.New("dynamodb: GetItem: ProvisionedThroughputExceededException: secret details")
}

func TestInternalError(t *testing.T) {
	q := qmemory.New(qmemory.Options{WaitTime: -1})
	h := newHarness(t, brokenStore{smemory.New()}, q, q)
	k := newEventKit(t)
	got := h.wantError(k.apiKey, appsync.TypeInternalError)
	if strings.Contains(got.Message, "secret") || !strings.Contains(got.Message, "9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a") {
		t.Fatalf("message %q: want a generic message with the request id", got.Message)
	}
	if !strings.Contains(h.logs.String(), "secret details") || !strings.Contains(h.logs.String(), `"level":"ERROR"`) {
		t.Fatalf("the real error is not logged:\n%s", h.logs.String())
	}
}

// The batch fixture: one JSON array in, one item per event out, each with
// its own data or error.
func TestBatchFixture(t *testing.T) {
	h := memoryHarness(t)
	k := newEventKit(t)
	h.must(k.cognito)
	out := h.invoke(fixture(t, "appsync-batch.json"))
	items, ok := out.Data.([]any)
	if !ok || len(items) != 3 {
		t.Fatalf("batch response: %#v", out)
	}
	first, second, third := items[0].(obj), items[1].(obj), items[2].(obj)
	if get(first, "data", "username") != "alice" || first["errorType"] != nil {
		t.Fatalf("item 0: %v", first)
	}
	if second["data"] != nil || second["errorType"] != appsync.TypeNotFound || str(second["errorMessage"]) == "" {
		t.Fatalf("item 1: %v", second)
	}
	if third["errorType"] != appsync.TypeInvalidInput {
		t.Fatalf("item 2: %v", third)
	}
	fields, _ := get(third, "errorInfo", "errors").([]any)
	if len(fields) != 1 || get(fields[0].(obj), "field") != "username" {
		t.Fatalf("item 2 errorInfo: %v", third["errorInfo"])
	}
}

// The SQS fixture: three records, two of them poison; exactly their IDs
// come back as batchItemFailures and the good one is applied.
func TestSQSFixturePartialFailure(t *testing.T) {
	h := memoryHarness(t)
	k := newEventKit(t)
	runStory(t, h)
	// A fresh job with a PENDING application, closed by a booking whose
	// declines we deliver by hand from the fixture.
	job := h.must(k.as("alice", parentGroups, "Mutation", "createJob", obj{"job": jobInput()}))
	ninaApp := h.must(k.as("nina", nannyGroups, "Mutation", "applyToJob", obj{"application": obj{"jobId": job["id"]}}))
	nickApp := h.must(k.as("nick", nannyGroups, "Mutation", "applyToJob", obj{"application": obj{"jobId": job["id"]}}))
	h.must(k.as("alice", parentGroups, "Mutation", "bookNanny", obj{"jobId": job["id"], "applicationId": ninaApp["id"]}))
	// Drop the messages the booking queued: the fixture delivers instead.
	msgs, err := h.source.Receive(context.Background(), 10)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("receive: %v %v", msgs, err)
	}
	if err := h.source.Delete(context.Background(), msgs); err != nil {
		t.Fatal(err)
	}

	raw, err := json.Marshal(fixture(t, "sqs-declines.json"))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer("{{jobId}}", str(job["id"]), "{{applicationId}}", str(nickApp["id"])).Replace(string(raw))
	var ev events.SQSEvent
	if err := json.Unmarshal([]byte(s), &ev); err != nil {
		t.Fatal(err)
	}
	resp := h.sqsInvoke(ev)
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	slices.Sort(ids)
	want := []string{"2e1424d4-f796-459a-8184-9c92662be6da", "c80e8021-a70a-42c7-a470-796e1186f753"}
	if !slices.Equal(ids, want) {
		t.Fatalf("batchItemFailures %v, want %v", ids, want)
	}
	apps := h.must(k.as("alice", parentGroups, "Query", "listApplicationsPerJob", obj{"jobId": job["id"]}))
	for _, it := range get(apps, "applications", "items").([]any) {
		a := it.(obj)
		if a["id"] == nickApp["id"] && a["jobApplicationStatus"] != "DECLINED" {
			t.Fatalf("the good record was not applied: %v", a)
		}
	}
	for _, id := range want {
		if !strings.Contains(h.logs.String(), `"messageId":"`+id+`"`) {
			t.Errorf("failed message %s is not logged with its id", id)
		}
	}
}
