package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/examples/lambda/e2e/internal/local"
)

const (
	userFields = `id username type status firstName lastName email phoneNumber dateOfBirth age
		spokenLanguages hourlyRate { amount currency } rating { count average } createdOn updatedOn`
	jobFields = `id username jobType jobStatus numberOfKids startDate endDate startTime endTime
		city latitude longitude cost { amount currency } acceptedApplicationId createdOn`
	appFields = `id jobId username message jobApplicationStatus createdOn`

	createUserQ = `mutation CreateUser($in: CreateUserInput!) { createUser(user: $in) { ` + userFields + ` } }`
	verifyQ     = `mutation Verify($u: String!, $s: UserAccountStatus!, $id: ID) {
		updateUserStatus(username: $u, status: $s, uploadId: $id) { username status verification { by at uploadId } } }`
	getUserQ   = `query GetUser($u: String!) { getUser(username: $u) { ` + userFields + ` } }`
	createJobQ = `mutation CreateJob($in: CreateJobInput!) { createJob(job: $in) { ` + jobFields + ` } }`
	applyQ     = `mutation Apply($job: String!, $msg: String) { applyToJob(application: {jobId: $job, message: $msg}) { ` + appFields + ` } }`
	bookQ      = `mutation Book($job: String!, $app: String!) {
		bookNanny(jobId: $job, applicationId: $app) { declinesQueued job { ` + jobFields + ` } application { ` + appFields + ` } } }`
	withdrawQ   = `mutation Withdraw($job: String!, $app: String!) { withdrawApplication(jobId: $job, applicationId: $app) { ` + appFields + ` } }`
	openJobsQ   = `query Open { listAllJobs(jobStatus: OPEN, limit: 100) { items { id jobStatus } nextCursor } }`
	appliedToQ  = `query AppliedTo($u: String!) { listJobsAppliedTo(username: $u) { nanny { username } applications { items { ` + appFields + ` } } } }`
	appsForJobQ = `query Apps($job: String!) { listApplicationsPerJob(jobId: $job) { job { ` + jobFields + ` } applications { items { ` + appFields + ` } } } }`
	parentJobsQ = `query ParentJobs($u: String) { listJobsPerParent(username: $u) { parent { username } jobs { items { id jobStatus } } } }`
)

func newUser(email, first, last string) obj {
	return obj{"email": email, "firstName": first, "lastName": last, "dateOfBirth": "1990-04-01"}
}

func jobInput() obj {
	return obj{
		"jobType": "BABYSITTING", "description": "Two kids, bedtime at eight.", "numberOfKids": 2,
		"startDate": "2026-04-10", "endDate": "2026-04-10", "startTime": "18:00", "endTime": "23:30",
		"address": "1 Main Street", "city": "Springfield", "latitude": 52.52, "longitude": 13.405,
		"cost": obj{"amount": 6000, "currency": "EUR"},
	}
}

// The tutorial's story as GraphQL operations: simulator → resolver
// bootstrap under the RIE → DynamoDB Local and fauxqs; then the declines
// from the queue through the declines bootstrap under its RIE; the final
// state read from DynamoDB directly.
func TestStory(t *testing.T) {
	s := setup(t)
	s.logsOnFailure(t)
	ctx := context.Background()
	alice := user("alice", "parent")
	nina := user("nina", "nanny")
	nick := user("nick", "nanny")
	root := user("root", "admin")

	// Three accounts: username and type default to the token's.
	aliceIn := newUser("alice@example.com", "Alice", "Smith")
	aliceIn["phoneNumber"] = "+4915112345678"
	a := s.must(t, alice, "createUser", createUserQ, obj{"in": aliceIn})
	if a["username"] != "alice" || a["type"] != "PARENT" || a["status"] != "UNVERIFIED" || a["email"] != "alice@example.com" {
		t.Fatalf("createUser alice: %v", a)
	}
	ninaIn := newUser("nina@example.com", "Nina", "Novak")
	ninaIn["spokenLanguages"] = []string{"en", "de", "hr"}
	ninaIn["hourlyRate"] = obj{"amount": 1500, "currency": "EUR"}
	n := s.must(t, nina, "createUser", createUserQ, obj{"in": ninaIn})
	if n["type"] != "NANNY" || get(n, "hourlyRate", "amount") != float64(1500) || len(n["spokenLanguages"].([]any)) != 3 {
		t.Fatalf("createUser nina: %v", n)
	}
	nickIn := newUser("Nick@Example.com", "Nick", "Nanny")
	// (AppSync's AWSDate also takes "1995-06-30Z"; the simulator's does not.)
	nickIn["username"], nickIn["type"], nickIn["dateOfBirth"] = "nick", "NANNY", "1995-06-30"
	k := s.must(t, nick, "createUser", createUserQ, obj{"in": nickIn})
	if k["email"] != "nick@example.com" || k["dateOfBirth"] != "1995-06-30" {
		t.Fatalf("createUser nick: %v", k)
	}

	// Each uploads an identity document through a presigned PUT to S3;
	// the admin reads it through a presigned GET and verifies them on it.
	docs := map[string]string{}
	for _, c := range []caller{alice, nina, nick} {
		docs[c.name] = s.verify(t, root, c)
	}
	// Nobody but an admin reads a document, not even its owner; another
	// user's document is not found under someone else's name.
	s.wantError(t, nina, "getDocument", "Unauthorized", getDocumentQ, obj{"u": "nina", "id": docs["nina"]})
	s.wantError(t, root, "getDocument", "NotFound", getDocumentQ, obj{"u": "nick", "id": docs["nina"]})
	// A profile picture: set from the upload, read without a signature.
	png := []byte("\x89PNG nina's face")
	pic := s.upload(t, nina, "picture", "image/png", png)
	withPic := s.must(t, nina, "confirmUpload", confirmUploadQ, obj{"u": "nina", "id": pic})
	if got := s.send(t, obj{"method": "GET", "url": withPic["profilePicUrl"], "headers": []any{}}, nil); string(got) != string(png) {
		t.Fatalf("GET of nina's picture at %v: %q", withPic["profilePicUrl"], got)
	}

	// The public profile with the API key: no private fields.
	pub := s.must(t, apiKey(), "getUser", getUserQ, obj{"u": "alice"})
	if pub["username"] != "alice" || pub["email"] != nil || pub["phoneNumber"] != nil || pub["status"] != "VERIFIED" {
		t.Fatalf("public getUser: %v", pub)
	}

	// alice posts a job; both nannies apply, nick twice.
	job := s.must(t, alice, "createJob", createJobQ, obj{"in": jobInput()})
	jobID := str(job["id"])
	if job["jobStatus"] != "OPEN" || job["username"] != "alice" || job["startTime"] != "18:00" || get(job, "cost", "amount") != float64(6000) {
		t.Fatalf("createJob: %v", job)
	}
	// createdOn is an AWSTimestamp, seconds since the epoch, as in the tutorial.
	if c, ok := job["createdOn"].(float64); !ok || c < 1.7e9 || c != float64(int64(c)) {
		t.Fatalf("createJob createdOn %v (%T): want seconds since the epoch", job["createdOn"], job["createdOn"])
	}
	ninaApp := s.must(t, nina, "applyToJob", applyQ, obj{"job": jobID, "msg": "I love kids"})
	nickApp := s.must(t, nick, "applyToJob", applyQ, obj{"job": jobID})
	if ninaApp["jobApplicationStatus"] != "PENDING" || nickApp["username"] != "nick" {
		t.Fatalf("applyToJob: %v / %v", ninaApp, nickApp)
	}
	s.wantError(t, nick, "applyToJob", "AlreadyExists", applyQ, obj{"job": jobID})

	eventually(t, func() string {
		r := s.must(t, nina, "listAllJobs", openJobsQ, nil)
		for _, it := range r["items"].([]any) {
			if get(it, "id") == jobID {
				return ""
			}
		}
		return fmt.Sprintf("job %s not in listAllJobs(OPEN): %v", jobID, r)
	})

	// alice books nina.
	b := s.must(t, alice, "bookNanny", bookQ, obj{"job": jobID, "app": ninaApp["id"]})
	if get(b, "job", "jobStatus") != "CLOSED" || get(b, "application", "jobApplicationStatus") != "ACCEPTED" || b["declinesQueued"] != float64(1) {
		t.Fatalf("bookNanny: %v", b)
	}
	// A retry succeeds, changes nothing, and sends the job's decline
	// message again (harmless: the consumer finds nothing more to do).
	again := s.must(t, alice, "bookNanny", bookQ, obj{"job": jobID, "app": ninaApp["id"]})
	if get(again, "job", "acceptedApplicationId") != ninaApp["id"] {
		t.Fatalf("bookNanny retry: %v", again)
	}
	queued := int(b["declinesQueued"].(float64) + again["declinesQueued"].(float64))

	// Until the declines function runs, nick's application is PENDING.
	if got := applicationStatuses(t, s, jobID); got["nick"] != babysitter.ApplicationPending || got["nina"] != babysitter.ApplicationAccepted {
		t.Fatalf("before the declines: %v", got)
	}

	// The declines: what is on the fauxqs queue, as SQS events, through
	// the declines bootstrap under its RIE.
	// (Every message on the queue is delivered; only this job's count.)
	var records int
	for try := 0; records < queued && try < 10; try++ {
		d, err := local.DeliverOnce(ctx, s.sqs, s.queueURL, s.queueARN, s.declines, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Event.Records) == 0 {
			continue
		}
		records += checkSQSEvent(t, s, d.Event, jobID)
		if len(d.Response.BatchItemFailures) != 0 {
			t.Fatalf("batchItemFailures: %v", d.Response.BatchItemFailures)
		}
		if len(d.Deleted) != len(d.Event.Records) {
			t.Fatalf("deleted %v of %d records", d.Deleted, len(d.Event.Records))
		}
	}
	if records != queued {
		t.Fatalf("delivered %d decline messages, want %d", records, queued)
	}
	// The declines function told nina she is booked, alice that the
	// booking is confirmed and nick that he was declined — on the SNS
	// topic, to a subscription filtering on the type attribute: once per
	// delivery of the job's message, identical every time.
	told := map[string]string{
		babysitter.NotificationID(babysitter.NotifyBooked, babysitter.ApplicationRef{JobID: jobID, ApplicationID: str(ninaApp["id"])}):           "nina",
		babysitter.NotificationID(babysitter.NotifyBookingConfirmed, babysitter.ApplicationRef{JobID: jobID, ApplicationID: str(ninaApp["id"])}): "alice",
		babysitter.NotificationID(babysitter.NotifyDeclined, babysitter.ApplicationRef{JobID: jobID, ApplicationID: str(nickApp["id"])}):         "nick",
	}
	counts := map[string]int{}
	for _, n := range s.notifications(t, jobID, len(told)) {
		counts[n.ID]++
		if told[n.ID] != n.Recipient {
			t.Errorf("notification %+v: not one the booking calls for (%v)", n, told)
		}
	}
	for id := range told {
		if counts[id] < 1 || counts[id] > queued {
			t.Errorf("notification %s published %d times; want once per batch of the job's %d messages", id, counts[id], queued)
		}
	}
	// The queue is empty now.
	if d, err := local.DeliverOnce(ctx, s.sqs, s.queueURL, s.queueARN, s.declines, 0); err != nil || len(d.Event.Records) != 0 {
		t.Fatalf("queue not empty after the declines: %v %v", d.Event.Records, err)
	}
	attrs, err := s.sqs.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{
		QueueUrl: aws.String(s.queueURL),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range attrs.Attributes {
		if v != "0" {
			t.Fatalf("queue attribute %s = %s after the declines", name, v)
		}
	}

	// The final state, read from DynamoDB directly.
	j, _, err := s.store.ListApplicationsForJob(ctx, babysitter.Guard{Actor: babysitter.Actor{Username: "e2e-checker", Role: babysitter.RoleAdmin}}, jobID, babysitter.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != babysitter.JobClosed || j.AcceptedApplicationID != str(ninaApp["id"]) {
		t.Fatalf("job in DynamoDB: %+v", j)
	}
	if got := applicationStatuses(t, s, jobID); got["nina"] != babysitter.ApplicationAccepted || got["nick"] != babysitter.ApplicationDeclined {
		t.Fatalf("applications in DynamoDB: %v", got)
	}

	// And through the API: nick sees his declined application and cannot
	// withdraw it; alice sees her private fields and her job.
	eventually(t, func() string {
		r := s.must(t, nick, "listJobsAppliedTo", appliedToQ, obj{"u": "nick"})
		items := get(r, "applications", "items").([]any)
		if len(items) != 1 || get(items[0], "jobApplicationStatus") != "DECLINED" {
			return fmt.Sprintf("listJobsAppliedTo nick: %v", r)
		}
		return ""
	})
	s.wantError(t, nick, "withdrawApplication", "Conflict", withdrawQ, obj{"job": jobID, "app": nickApp["id"]})
	apps := s.must(t, alice, "listApplicationsPerJob", appsForJobQ, obj{"job": jobID})
	if get(apps, "job", "jobStatus") != "CLOSED" || len(get(apps, "applications", "items").([]any)) != 2 {
		t.Fatalf("listApplicationsPerJob: %v", apps)
	}
	self := s.must(t, alice, "getUser", getUserQ, obj{"u": "alice"})
	if self["email"] != "alice@example.com" || self["phoneNumber"] != "+4915112345678" {
		t.Fatalf("getUser self: %v", self)
	}
	eventually(t, func() string {
		// Her own jobs without naming her, as in the tutorial.
		r := s.must(t, alice, "listJobsPerParent", parentJobsQ, nil)
		if get(r, "parent", "username") != "alice" || len(get(r, "jobs", "items").([]any)) != 1 {
			return fmt.Sprintf("listJobsPerParent: %v", r)
		}
		return ""
	})

	// The bootstraps logged JSON lines to stdout, which the emulator
	// passes on (CloudWatch Logs in AWS).
	for name, out := range map[string]string{"resolver": s.resolver.Output(), "declines": s.declines.Output()} {
		var found bool
		for _, line := range strings.Split(out, "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) != nil {
				continue
			}
			if name == "resolver" && rec["field"] == "Mutation.bookNanny" && rec["username"] == "alice" && rec["role"] == "parent" && rec["awsRequestId"] != "" {
				found = true
			}
			if name == "declines" && rec["msg"] == "batch handled" {
				found = true
			}
		}
		if !found {
			t.Errorf("no expected log record from the %s function in:\n%s", name, tail(out, 20))
		}
	}
}

// applicationStatuses reads a job's applications from DynamoDB directly
// (the store, not a function), by nanny.
func applicationStatuses(t *testing.T, s *stack, jobID string) map[string]babysitter.ApplicationStatus {
	t.Helper()
	_, p, err := s.store.ListApplicationsForJob(context.Background(), babysitter.Guard{Actor: babysitter.Actor{Username: "e2e-checker", Role: babysitter.RoleAdmin}}, jobID, babysitter.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]babysitter.ApplicationStatus{}
	for _, a := range p.Items {
		m[a.NannyUsername] = a.Status
	}
	return m
}

// checkSQSEvent checks that an event built from the queue has Lambda's
// shape and returns how many of its records are the job's decline message
// (the others must be decline messages too).
func checkSQSEvent(t *testing.T, s *stack, ev events.SQSEvent, jobID string) int {
	t.Helper()
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		Records []struct {
			MessageID         string            `json:"messageId"`
			ReceiptHandle     string            `json:"receiptHandle"`
			Body              string            `json:"body"`
			Attributes        map[string]string `json:"attributes"`
			MessageAttributes map[string]struct {
				StringValue *string `json:"stringValue"`
				DataType    string  `json:"dataType"`
			} `json:"messageAttributes"`
			Md5OfBody      string `json:"md5OfBody"`
			EventSource    string `json:"eventSource"`
			EventSourceARN string `json:"eventSourceARN"`
			AWSRegion      string `json:"awsRegion"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatal(err)
	}
	mine := 0
	for _, r := range e.Records {
		typ := r.MessageAttributes["type"]
		switch {
		case r.MessageID == "" || r.ReceiptHandle == "" || r.Md5OfBody == "":
			t.Fatalf("record without id, receipt handle or md5: %s", raw)
		case r.EventSource != "aws:sqs" || r.EventSourceARN != s.queueARN || r.AWSRegion != local.Region:
			t.Fatalf("record source: %s", raw)
		case r.Attributes["ApproximateReceiveCount"] != "1" || r.Attributes["SentTimestamp"] == "":
			t.Fatalf("record attributes: %v", r.Attributes)
		case typ.StringValue == nil || *typ.StringValue != babysitter.DeclineMessageType || typ.DataType != "String":
			t.Fatalf("record message attributes: %s", raw)
		}
		var body struct {
			JobID string `json:"jobId"`
		}
		if err := json.Unmarshal([]byte(r.Body), &body); err != nil || body.JobID == "" {
			t.Fatalf("record body %s is not a job's decline message: %v", r.Body, err)
		}
		if body.JobID == jobID {
			mine++
		}
	}
	keys := make([]string, 0)
	for k := range e.Records[0].Attributes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	t.Logf("SQS event: %d record(s), attributes %v", len(e.Records), keys)
	return mine
}
