package lambda_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/babysitter-go/babysitter"
	qmemory "github.com/babysitter-go/babysitter/queue/memory"
	smemory "github.com/babysitter-go/babysitter/store/memory"
	"github.com/babysitter-go/babysitter/transport/appsync"
)

// The tutorial's story, end to end through the two Lambda handlers, on the
// memory backends.
func TestStoryMemory(t *testing.T) {
	dlq := qmemory.New(qmemory.Options{WaitTime: -1})
	q := qmemory.New(qmemory.Options{WaitTime: -1, MaxReceiveCount: 5, DeadLetter: dlq})
	h := newHarness(t, smemory.New(), q, q)
	runStory(t, h)
}

var (
	parentGroups = []string{"parent"}
	nannyGroups  = []string{"nanny"}
	// The admin is also in "parent": admin wins.
	adminGroups = []string{"parent", "admin"}
)

func jobInput() obj {
	return obj{
		"jobType":      "BABYSITTING",
		"description":  "Two kids, bedtime at eight.",
		"numberOfKids": 2,
		"startDate":    "2026-04-10",
		"endDate":      "2026-04-10",
		"startTime":    "18:00",
		"endTime":      "23:30",
		"address":      "1 Main Street",
		"city":         "Springfield",
		"latitude":     52.52,
		"longitude":    13.405,
		"cost":         obj{"amount": 6000, "currency": "EUR"},
	}
}

// storyResult is what the story leaves behind for further checks.
type storyResult struct {
	jobID, ninaApp, nickApp string
}

func runStory(t *testing.T, h *harness) storyResult {
	ctx := context.Background()
	k := newEventKit(t)

	// createUser ×3: the fixture as is (identity.groups), the claims-only
	// fixture as is, and a third user.
	alice := h.must(k.cognito)
	if alice["username"] != "alice" || alice["type"] != "PARENT" || alice["status"] != "UNVERIFIED" || alice["email"] != "alice@example.com" {
		t.Fatalf("createUser alice: %v", alice)
	}
	nina := h.must(k.claims)
	if nina["username"] != "nina" || nina["type"] != "NANNY" || get(nina, "hourlyRate", "amount") != float64(1500) {
		t.Fatalf("createUser nina (claims-only identity): %v", nina)
	}
	nick := h.must(k.as("nick", nannyGroups, "Mutation", "createUser", obj{"user": obj{
		"username": "nick", "type": "NANNY", "email": "Nick@Example.com",
		"firstName": "Nick", "lastName": "Nanny", "dateOfBirth": "1995-06-30Z",
	}}))
	if nick["email"] != "nick@example.com" || nick["dateOfBirth"] != "1995-06-30" || nick["age"] != float64(30) {
		t.Fatalf("createUser nick: %v", nick)
	}

	// Each uploads an identity document; an admin reads it and verifies
	// the account on it. Nobody else reads it, not even its owner.
	docs := map[string]string{}
	for _, u := range []struct {
		name   string
		groups []string
	}{{"alice", parentGroups}, {"nina", nannyGroups}, {"nick", nannyGroups}} {
		docs[u.name] = h.verify(k, u.name, u.groups)
	}
	h.wantError(k.as("nina", nannyGroups, "Query", "getDocument", obj{"username": "nina", "uploadId": docs["nina"]}), appsync.TypeForbidden)
	h.wantError(k.as("root", adminGroups, "Query", "getDocument", obj{"username": "nick", "uploadId": docs["nina"]}), appsync.TypeNotFound)
	// The decision is private: the public profile has neither it nor the
	// documents.
	if pub := h.must(k.anonymous("Query", "getUser", obj{"username": "nina"})); pub["verification"] != nil || pub["documents"] != nil {
		t.Fatalf("public getUser shows nina's evidence: %v", pub)
	}

	// getUser with an API key: public fields only.
	pub := h.must(k.apiKey)
	if pub["username"] != "alice" || pub["email"] != nil || pub["phoneNumber"] != nil || pub["status"] != "VERIFIED" {
		t.Fatalf("public getUser: %v", pub)
	}
	if get(pub, "rating", "count") != float64(0) {
		t.Fatalf("rating: %v", pub["rating"])
	}

	// alice posts a job; the nannies apply.
	job := h.must(k.as("alice", parentGroups, "Mutation", "createJob", obj{"job": jobInput()}))
	jobID := str(job["id"])
	if job["jobStatus"] != "OPEN" || job["username"] != "alice" || job["startTime"] != "18:00" || get(job, "cost", "amount") != float64(6000) {
		t.Fatalf("createJob: %v", job)
	}
	ninaApp := h.must(k.asClaimsOnly("nina", nannyGroups, "Mutation", "applyToJob", obj{"application": obj{"jobId": jobID, "message": "I love kids"}}))
	nickApp := h.must(k.as("nick", nannyGroups, "Mutation", "applyToJob", obj{"application": obj{"jobId": jobID}}))
	if ninaApp["jobApplicationStatus"] != "PENDING" || nickApp["username"] != "nick" {
		t.Fatalf("applyToJob: %v / %v", ninaApp, nickApp)
	}
	h.wantError(k.as("nick", nannyGroups, "Mutation", "applyToJob", obj{"application": obj{"jobId": jobID}}), appsync.TypeAlreadyExists)

	// The nannies see the job in the OPEN list.
	// (GSI reads: DynamoDB's indexes are eventually consistent.)
	eventually(t, func() string {
		open := h.must(k.as("nina", nannyGroups, "Query", "listAllJobs", obj{"jobStatus": "OPEN", "limit": 10}))
		if items := open["items"].([]any); len(items) != 1 || get(items[0].(obj), "id") != jobID {
			return fmt.Sprintf("listAllJobs: %v", open)
		}
		return ""
	})

	// ... and near a point, with the distance to it; a parent may not ask.
	eventually(t, func() string {
		near := h.must(k.as("nick", nannyGroups, "Query", "listJobsNear", obj{"latitude": 52.5, "longitude": 13.4, "radiusKm": 10, "limit": 5}))
		items := near["items"].([]any)
		if len(items) != 1 || get(items[0].(obj), "job", "id") != jobID {
			return fmt.Sprintf("listJobsNear: %v", near)
		}
		if d, want := get(items[0].(obj), "distanceKm").(float64), babysitter.DistanceKm(52.5, 13.4, 52.52, 13.405); math.Abs(d-want) > 1e-9 {
			return fmt.Sprintf("distanceKm %v, want %v", d, want)
		}
		return ""
	})
	if near := h.must(k.as("root", adminGroups, "Query", "listJobsNear", obj{"latitude": 52.5, "longitude": 13.4, "radiusKm": 1})); len(near["items"].([]any)) != 0 || near["nextCursor"] != nil {
		t.Fatalf("listJobsNear within 1 km: %v", near)
	}
	h.wantError(k.as("alice", parentGroups, "Query", "listJobsNear", obj{"latitude": 52.5, "longitude": 13.4, "radiusKm": 10}), appsync.TypeForbidden)
	h.wantError(k.as("nick", nannyGroups, "Query", "listJobsNear", obj{"latitude": 52.5, "longitude": 13.4, "radiusKm": 51}), appsync.TypeInvalidInput)

	// alice books nina; nick's application is declined through the queue.
	booking := h.must(k.as("alice", parentGroups, "Mutation", "bookNanny", obj{"jobId": jobID, "applicationId": ninaApp["id"]}))
	if get(booking, "job", "jobStatus") != "CLOSED" || get(booking, "application", "jobApplicationStatus") != "ACCEPTED" || booking["declinesQueued"] != float64(1) {
		t.Fatalf("bookNanny: %v", booking)
	}
	// Retrying the booking succeeds and changes nothing.
	again := h.must(k.as("alice", parentGroups, "Mutation", "bookNanny", obj{"jobId": jobID, "applicationId": ninaApp["id"]}))
	if get(again, "job", "acceptedApplicationId") != ninaApp["id"] {
		t.Fatalf("bookNanny retry: %v", again)
	}

	handled, failed := h.drain(ctx)
	if handled == 0 || len(failed) != 0 {
		t.Fatalf("drain: handled %d, failed %v", handled, failed)
	}

	apps := h.must(k.as("alice", parentGroups, "Query", "listApplicationsPerJob", obj{"jobId": jobID}))
	status := map[string]any{}
	for _, it := range get(apps, "applications", "items").([]any) {
		a := it.(obj)
		status[str(a["username"])] = a["jobApplicationStatus"]
	}
	if status["nina"] != "ACCEPTED" || status["nick"] != "DECLINED" {
		t.Fatalf("after the declines: %v", status)
	}
	if get(apps, "job", "jobStatus") != "CLOSED" {
		t.Fatalf("job: %v", apps["job"])
	}
	// The consumer told nina she is booked, alice that the booking is
	// confirmed and nick that he was declined, identical each time so
	// that subscribers dedupe on the event ID: once per batch holding the
	// job's messages — the booking's and its retry's, once when one batch
	// holds both (a batch declines a job once), twice when two do.
	ref := func(app obj) babysitter.ApplicationRef {
		return babysitter.ApplicationRef{JobID: jobID, ApplicationID: str(app["id"])}
	}
	told := map[string]string{ // event ID → recipient
		babysitter.NotificationID(babysitter.NotifyBooked, ref(ninaApp)):           "nina",
		babysitter.NotificationID(babysitter.NotifyBookingConfirmed, ref(ninaApp)): "alice",
		babysitter.NotificationID(babysitter.NotifyDeclined, ref(nickApp)):         "nick",
	}
	counts := map[string]int{}
	for _, n := range h.published(t, len(told)) {
		counts[n.ID]++
		if told[n.ID] != n.Recipient || string(n.Type) != strings.SplitN(n.ID, ":", 2)[0] {
			t.Errorf("notification %+v: not one the booking calls for (%v)", n, told)
		}
	}
	for id := range told {
		if counts[id] < 1 || counts[id] > 2 {
			t.Errorf("notification %s published %d times, want once per batch of the job's 2 messages", id, counts[id])
		}
	}

	// nick sees his declined application; nina's list shows hers.
	eventually(t, func() string {
		nickApps := h.must(k.as("nick", nannyGroups, "Query", "listJobsAppliedTo", obj{"username": "nick"}))
		if items := get(nickApps, "applications", "items").([]any); len(items) != 1 || get(items[0].(obj), "jobApplicationStatus") != "DECLINED" {
			return fmt.Sprintf("listJobsAppliedTo nick: %v", nickApps)
		}
		return ""
	})
	// The declined application cannot be withdrawn.
	h.wantError(k.as("nick", nannyGroups, "Mutation", "withdrawApplication", obj{"jobId": jobID, "applicationId": nickApp["id"]}), appsync.TypeConflict)

	reviewStory(t, h, k, jobID)

	// alice's own view of herself has the private fields.
	self := h.must(k.as("alice", parentGroups, "Query", "getUser", obj{"username": "alice"}))
	if self["email"] != "alice@example.com" || self["phoneNumber"] != "+4915112345678" {
		t.Fatalf("getUser self: %v", self)
	}
	eventually(t, func() string {
		// The caller's own jobs without an argument, as in the tutorial;
		// an admin names the parent.
		for _, parentJobs := range []obj{
			h.must(k.as("alice", parentGroups, "Query", "listJobsPerParent", nil)),
			h.must(k.as("root", adminGroups, "Query", "listJobsPerParent", obj{"username": "alice"})),
		} {
			if get(parentJobs, "parent", "username") != "alice" || len(get(parentJobs, "jobs", "items").([]any)) != 1 {
				return fmt.Sprintf("listJobsPerParent: %v", parentJobs)
			}
		}
		return ""
	})

	// Every log record is one JSON line with the request ids.
	for _, line := range strings.Split(strings.TrimSpace(h.logs.String()), "\n") {
		if !strings.HasPrefix(line, "{") {
			t.Fatalf("log line is not JSON: %s", line)
		}
	}
	if !strings.Contains(h.logs.String(), `"requestId":"6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"`) {
		t.Fatal("the AppSync request id (x-amzn-requestid) is not logged")
	}
	return storyResult{jobID: jobID, ninaApp: str(ninaApp["id"]), nickApp: str(nickApp["id"])}
}

// reviewAnswers is a LeaveReviewInput's answers: every question of the
// direction, answered yes.
func reviewAnswers(d babysitter.ReviewDirection) []any {
	var out []any
	for _, q := range babysitter.Questions(d) {
		out = append(out, obj{"question": q, "answer": true})
	}
	return out
}

// reviewStory: the booked job leaves the nearby jobs; reviews wait for its
// completion; then alice and nina review each other, once each, and
// nina's rating and reviews are public.
func reviewStory(t *testing.T, h *harness, k eventKit, jobID string) {
	eventually(t, func() string {
		near := h.must(k.as("nick", nannyGroups, "Query", "listJobsNear", obj{"latitude": 52.5, "longitude": 13.4, "radiusKm": 10}))
		if items := near["items"].([]any); len(items) != 0 {
			return fmt.Sprintf("listJobsNear after the booking: %v", near)
		}
		return ""
	})

	ofNanny := obj{"rating": 5, "text": "Wonderful evening", "answers": reviewAnswers(babysitter.ReviewOfNanny)}
	ofParent := obj{"rating": 4, "answers": reviewAnswers(babysitter.ReviewOfParent)}
	h.wantError(k.as("alice", parentGroups, "Mutation", "leaveReview", obj{"jobId": jobID, "review": ofNanny}), appsync.TypeConflict)
	h.wantError(k.as("nick", nannyGroups, "Mutation", "completeJob", obj{"jobId": jobID}), appsync.TypeForbidden)

	done := h.must(k.as("alice", parentGroups, "Mutation", "completeJob", obj{"jobId": jobID}))
	if done["jobStatus"] != "COMPLETED" || done["acceptedNanny"] != "nina" {
		t.Fatalf("completeJob: %v", done)
	}
	h.wantError(k.as("alice", parentGroups, "Mutation", "completeJob", obj{"jobId": jobID}), appsync.TypeConflict)

	r := h.must(k.as("alice", parentGroups, "Mutation", "leaveReview", obj{"jobId": jobID, "review": ofNanny}))
	if r["direction"] != "OF_NANNY" || r["reviewer"] != "alice" || r["reviewee"] != "nina" || r["rating"] != float64(5) ||
		r["text"] != "Wonderful evening" || r["jobId"] != jobID || fmt.Sprint(r["answers"]) != fmt.Sprint(reviewAnswers(babysitter.ReviewOfNanny)) {
		t.Fatalf("leaveReview alice: %v", r)
	}
	// A question answered twice, or one of the other direction, is invalid.
	twice := obj{"rating": 4, "answers": append(reviewAnswers(babysitter.ReviewOfParent), obj{"question": "paidAsAgreed", "answer": false})}
	if e := h.wantError(k.asClaimsOnly("nina", nannyGroups, "Mutation", "leaveReview", obj{"jobId": jobID, "review": twice}), appsync.TypeInvalidInput); !strings.Contains(e.Message, "answers.paidAsAgreed") {
		t.Fatalf("answered twice: %s", e.Message)
	}
	h.wantError(k.asClaimsOnly("nina", nannyGroups, "Mutation", "leaveReview", obj{"jobId": jobID, "review": obj{"rating": 4, "answers": reviewAnswers(babysitter.ReviewOfNanny)}}), appsync.TypeInvalidInput)
	r = h.must(k.asClaimsOnly("nina", nannyGroups, "Mutation", "leaveReview", obj{"jobId": jobID, "review": ofParent}))
	if r["direction"] != "OF_PARENT" || r["reviewer"] != "nina" || r["reviewee"] != "alice" || r["text"] != nil {
		t.Fatalf("leaveReview nina: %v", r)
	}
	h.wantError(k.as("alice", parentGroups, "Mutation", "leaveReview", obj{"jobId": jobID, "review": ofNanny}), appsync.TypeAlreadyExists)
	h.wantError(k.as("nick", nannyGroups, "Mutation", "leaveReview", obj{"jobId": jobID, "review": ofParent}), appsync.TypeForbidden)

	// Ratings and reviews are public (API key).
	for name, want := range map[string]string{"nina": "map[average:5 count:1 sum:5]", "alice": "map[average:4 count:1 sum:4]"} {
		u := h.must(k.anonymous("Query", "getUser", obj{"username": name}))
		if got := fmt.Sprint(u["rating"]); got != want {
			t.Fatalf("%s's rating %s, want %s", name, got, want)
		}
	}
	reviews := h.must(k.anonymous("Query", "listReviews", obj{"username": "nina", "limit": 10}))
	items := reviews["items"].([]any)
	if len(items) != 1 || reviews["nextCursor"] != nil {
		t.Fatalf("listReviews nina: %v", reviews)
	}
	if it := items[0].(obj); it["reviewer"] != "alice" || it["rating"] != float64(5) || len(it["answers"].([]any)) != 3 || it["createdOn"] != float64(h.now.Unix()) {
		t.Fatalf("nina's review: %v", it)
	}
	if reviews := h.must(k.as("root", adminGroups, "Query", "listReviews", obj{"username": "alice"})); len(reviews["items"].([]any)) != 1 {
		t.Fatalf("listReviews alice: %v", reviews)
	}
	if reviews := h.must(k.anonymous("Query", "listReviews", obj{"username": "nick"})); len(reviews["items"].([]any)) != 0 {
		t.Fatalf("listReviews nick: %v", reviews)
	}
}

// eventually retries check, which returns "" when satisfied, for a while:
// reads through a GSI may lag a write on DynamoDB.
func eventually(t testing.TB, check func() string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
