package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/blob/blobtest"
	"github.com/babysitter-go/babysitter/notify/notifytest"
	"github.com/babysitter-go/babysitter/transport/httpapi/jwtauth"
)

// declineDeadline bounds the wait for the in-process consumer.
const declineDeadline = 15 * time.Second

// TestEndToEnd runs the tutorial's story over loopback, through the real
// handler and an in-process decline poller, once per backend: the memory
// backends always, the AWS-compatible ones when their servers are
// available (see testBackends).
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	for _, b := range testBackends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			store, queue, source := b.open(t)
			e := newTestEnv(t, store, queue, source, withEvidence(b.evidence))
			st := tutorialStory(t, e)
			t.Run("more operations", func(t *testing.T) { moreOperations(t, e, st) })
			t.Run("errors", func(t *testing.T) { errorStatuses(t, e, st) })
			t.Run("trust", func(t *testing.T) { trustScenarios(t, e) })
		})
	}
}

// story is what the tutorial's story created, for the later steps.
type story struct {
	alice, bob, carol, admin string // tokens
	job                      babysitter.Job
	bobApp, carolApp         babysitter.Application
	// docs are the identity documents the accounts were verified on, by
	// username.
	docs map[string]string
}

// tutorialStory: parent alice, nannies bob and carol, an admin verifying
// them, a job, two applications, bob booked, carol declined by the consumer.
func tutorialStory(t *testing.T, e *testEnv) story {
	st := story{
		alice: token(t, "alice", "parent"),
		bob:   token(t, "bob", "nanny"),
		carol: token(t, "carol", "nanny"),
		admin: token(t, "admin", "admin"),
		docs:  map[string]string{},
	}

	// Everyone creates their own account; it starts UNVERIFIED.
	for _, u := range []struct {
		tok, name string
		typ       babysitter.UserType
	}{{st.alice, "alice", babysitter.UserParent}, {st.bob, "bob", babysitter.UserNanny}, {st.carol, "carol", babysitter.UserNanny}} {
		r := e.do("POST", "/v1/users", u.tok, userBody(u.name, u.typ))
		got := want[babysitter.User](t, r, http.StatusCreated)
		if got.Username != u.name || got.Type != u.typ || got.Status != babysitter.StatusUnverified || got.Email != u.name+"@example.com" {
			t.Fatalf("created %+v", got)
		}
		if loc := r.header.Get("Location"); loc != "/v1/users/"+u.name {
			t.Errorf("Location %q", loc)
		}
	}

	// Profiles are public, without the private fields; the user sees all.
	if pub := want[babysitter.User](t, e.do("GET", "/v1/users/bob", "", nil), http.StatusOK); pub.Email != "" || pub.FirstName != "Bob" {
		t.Errorf("anonymous GET bob = %+v; want the public profile", pub)
	}
	if self := want[babysitter.User](t, e.do("GET", "/v1/users/bob", st.bob, nil), http.StatusOK); self.Email != "bob@example.com" {
		t.Errorf("bob's own GET has email %q", self.Email)
	}

	// Each uploads an identity document: a presigned PUT sent by a plain
	// HTTP client straight to the object storage. The admin reads it
	// through a presigned GET — nobody else may — and verifies the account
	// on it.
	for _, u := range []struct{ tok, name string }{{st.alice, "alice"}, {st.bob, "bob"}, {st.carol, "carol"}} {
		card := []byte("%PDF-1.7 identity card of " + u.name)
		up := e.upload(u.tok, u.name, babysitter.UploadDocument, "application/pdf", card)
		confirmed := want[babysitter.User](t, e.do("POST", "/v1/users/"+u.name+"/uploads/"+up.ID+"/confirm", u.tok, nil), http.StatusOK)
		if len(confirmed.Documents) != 1 || confirmed.Documents[0].ID != up.ID || confirmed.Documents[0].UploadedOn.IsZero() {
			t.Fatalf("%s's documents after the upload: %+v", u.name, confirmed.Documents)
		}
		doc := "/v1/users/" + u.name + "/documents/" + up.ID
		for _, tok := range []string{u.tok, st.carol} {
			wantProblem(t, e.do("GET", doc, tok, nil), http.StatusForbidden, "forbidden")
		}
		pr := want[babysitter.PresignedRequest](t, e.do("GET", doc, st.admin, nil), http.StatusOK)
		if got := e.fetch(pr); !bytes.Equal(got, card) {
			t.Fatalf("the admin's GET of %s's document: %q", u.name, got)
		}
		v := want[babysitter.User](t, e.do("PUT", "/v1/users/"+u.name+"/status", st.admin, map[string]string{"status": "VERIFIED", "uploadId": up.ID}), http.StatusOK)
		if v.Status != babysitter.StatusVerified || v.Verification == nil || v.Verification.By != "admin" || v.Verification.UploadID != up.ID {
			t.Fatalf("%s after the verification: %s, %+v", u.name, v.Status, v.Verification)
		}
		st.docs[u.name] = up.ID
	}
	// The decision is the user's and the admins' to see, not the public's.
	if pub := want[babysitter.User](t, e.do("GET", "/v1/users/bob", "", nil), http.StatusOK); pub.Verification != nil || pub.Documents != nil {
		t.Errorf("the public profile shows bob's evidence: %+v, %+v", pub.Verification, pub.Documents)
	}
	if self := want[babysitter.User](t, e.do("GET", "/v1/users/bob", st.bob, nil), http.StatusOK); self.Verification == nil || len(self.Documents) != 1 {
		t.Errorf("bob does not see his own verification: %+v, %+v", self.Verification, self.Documents)
	}

	// Alice posts a job.
	r := e.do("POST", "/v1/jobs", st.alice, jobBody())
	st.job = want[babysitter.Job](t, r, http.StatusCreated)
	if st.job.Status != babysitter.JobOpen || st.job.ParentUsername != "alice" || st.job.Cost.Amount != 6000 || st.job.StartTime.String() != "18:00" {
		t.Fatalf("created job %+v", st.job)
	}
	if loc := r.header.Get("Location"); loc != "/v1/jobs/"+st.job.ID {
		t.Errorf("Location %q", loc)
	}
	if got := want[babysitter.Job](t, e.do("GET", "/v1/jobs/"+st.job.ID, st.bob, nil), http.StatusOK); got.ID != st.job.ID {
		t.Errorf("GET job = %+v", got)
	}

	// Bob and carol find it among the open jobs and apply, bob with a
	// message, carol with an empty body.
	eventually(t, 10*time.Second, func() error {
		page := want[babysitter.Page[babysitter.Job]](t, e.do("GET", "/v1/jobs?jobStatus=OPEN", st.carol, nil), http.StatusOK)
		if !slices.ContainsFunc(page.Items, func(j babysitter.Job) bool { return j.ID == st.job.ID }) {
			return fmt.Errorf("open jobs %+v lack the job", page.Items)
		}
		return nil
	})
	// ... and among the OPEN jobs near a point, with the distance to it.
	eventually(t, 10*time.Second, func() error {
		page := want[babysitter.Page[babysitter.NearbyJob]](t, e.do("GET", nearQuery+"&radiusKm=10", st.carol, nil), http.StatusOK)
		if len(page.Items) != 1 || page.Items[0].ID != st.job.ID {
			return fmt.Errorf("jobs near %s: %+v, want the job", nearPoint, page.Items)
		}
		if d, wantD := page.Items[0].DistanceKm, babysitter.DistanceKm(52.5, 13.4, st.job.Latitude, st.job.Longitude); math.Abs(d-wantD) > 1e-9 || d < 2 || d > 3 {
			t.Errorf("distanceKm %v, want %v", d, wantD)
		}
		return nil
	})
	// Not within a radius that stops short of it.
	if page := want[babysitter.Page[babysitter.NearbyJob]](t, e.do("GET", nearQuery+"&radiusKm=1", st.carol, nil), http.StatusOK); len(page.Items) != 0 {
		t.Errorf("jobs within 1 km: %+v", page.Items)
	}

	apps := "/v1/jobs/" + st.job.ID + "/applications"
	st.bobApp = want[babysitter.Application](t, e.do("POST", apps, st.bob, map[string]string{"message": "I love kids"}), http.StatusCreated)
	st.carolApp = want[babysitter.Application](t, e.do("POST", apps, st.carol, nil), http.StatusCreated)
	if st.bobApp.Status != babysitter.ApplicationPending || st.bobApp.Message != "I love kids" || st.carolApp.NannyUsername != "carol" {
		t.Fatalf("applications %+v, %+v", st.bobApp, st.carolApp)
	}
	eventually(t, 10*time.Second, func() error {
		return wantStatuses(t, e, st.alice, st.job.ID, map[string]babysitter.ApplicationStatus{
			st.bobApp.ID: babysitter.ApplicationPending, st.carolApp.ID: babysitter.ApplicationPending,
		})
	})

	// Alice books bob: the job closes, bob's application is accepted and
	// one decline — carol's — is queued.
	b := want[babysitter.Booking](t, e.do("POST", "/v1/jobs/"+st.job.ID+"/booking", st.alice, map[string]string{"applicationId": st.bobApp.ID}), http.StatusOK)
	if b.Job.Status != babysitter.JobClosed || b.Job.AcceptedApplicationID != st.bobApp.ID || b.Application.Status != babysitter.ApplicationAccepted || b.DeclinesQueued != 1 {
		t.Fatalf("booking %+v", b)
	}

	// The in-process consumer declines carol.
	eventually(t, declineDeadline, func() error {
		return wantStatuses(t, e, st.alice, st.job.ID, map[string]babysitter.ApplicationStatus{
			st.bobApp.ID: babysitter.ApplicationAccepted, st.carolApp.ID: babysitter.ApplicationDeclined,
		})
	})
	// Then it tells bob he is booked, alice that the booking is confirmed
	// and carol that she was declined: exactly these events, each as
	// often as it is published identical. (At least once: the test
	// server's sweeper, due after 200 ms, may take the job too while the
	// consumer publishes; store/storetest and internal/fullstack, without
	// a sweeper racing the consumer, count exactly one each.)
	told := e.notifications(t, st.alice, st.job.ID)
	if len(told) != 3 {
		t.Fatalf("the booking calls for %d notifications, want 3: %+v", len(told), told)
	}
	notifytest.ExactlyThese(t, told, e.published.Published(t, len(told)))
	eventually(t, 10*time.Second, func() error {
		na := want[babysitter.NannyApplications](t, e.do("GET", "/v1/users/carol/applications", st.carol, nil), http.StatusOK)
		if na.Nanny.Username != "carol" || len(na.Applications.Items) != 1 || na.Applications.Items[0].Status != babysitter.ApplicationDeclined {
			return fmt.Errorf("carol's applications: %+v", na)
		}
		return nil
	})

	// Retrying the booking succeeds and changes nothing: it sends the
	// job's decline message again, as reconcile does, and the consumer
	// finds nothing left to decline.
	before := e.snapshot()
	b2 := want[babysitter.Booking](t, e.do("POST", "/v1/jobs/"+st.job.ID+"/booking", st.alice, map[string]string{"applicationId": st.bobApp.ID}), http.StatusOK)
	if b2.Job.Status != babysitter.JobClosed || b2.Job.AcceptedApplicationID != st.bobApp.ID || b2.DeclinesQueued != 1 {
		t.Errorf("retried booking %+v", b2)
	}
	rr := want[ReconcileResult](t, e.do("POST", "/v1/jobs/"+st.job.ID+"/reconcile", st.alice, nil), http.StatusOK)
	if rr.DeclinesQueued != 1 || rr.JobID != st.job.ID {
		t.Errorf("reconcile %+v, want 1 message queued for job %s", rr, st.job.ID)
	}
	if after := e.snapshot(); after.sent != before.sent+2 {
		t.Errorf("retry and reconcile sent %d messages, want 2", after.sent-before.sent)
	}
	if err := wantStatuses(t, e, st.alice, st.job.ID, map[string]babysitter.ApplicationStatus{
		st.bobApp.ID: babysitter.ApplicationAccepted, st.carolApp.ID: babysitter.ApplicationDeclined,
	}); err != nil {
		t.Error(err)
	}
	// The job's message, delivered again, publishes the same events again
	// — identical, the same IDs to dedupe on — and nothing else.
	notifytest.ExactlyThese(t, told, e.published.Published(t, len(told)))

	// The booked job has left the jobs near the point.
	eventually(t, 10*time.Second, func() error {
		if page := want[babysitter.Page[babysitter.NearbyJob]](t, e.do("GET", nearQuery+"&radiusKm=10", st.bob, nil), http.StatusOK); len(page.Items) != 0 {
			return fmt.Errorf("jobs near %s after the booking: %+v", nearPoint, page.Items)
		}
		return nil
	})

	reviews(t, e, &st)
	return st
}

// nearPoint is a point about 2.3 km from jobBody's location.
const (
	nearPoint = "52.5,13.4"
	nearQuery = "/v1/jobs?latitude=52.5&longitude=13.4"
)

// reviews: a review must wait for the job to be COMPLETED; then alice and
// bob review each other, bob's rating shows the review, and the reviews
// are public.
func reviews(t *testing.T, e *testEnv, st *story) {
	jobs := "/v1/jobs/" + st.job.ID
	before := e.snapshot()
	p := wantProblem(t, e.do("POST", jobs+"/reviews", st.alice, reviewOfNannyBody(5)), http.StatusConflict, "conflict")
	if !strings.Contains(p.Detail, "COMPLETED") {
		t.Errorf("review of a CLOSED job: %q", p.Detail)
	}
	e.noWrites(before, false, "review before completion")

	st.job = want[babysitter.Job](t, e.do("POST", jobs+"/complete", st.alice, nil), http.StatusOK)
	if st.job.Status != babysitter.JobCompleted || st.job.AcceptedNanny != "bob" || st.job.AcceptedApplicationID != st.bobApp.ID {
		t.Fatalf("completed job %+v", st.job)
	}

	r := e.do("POST", jobs+"/reviews", st.alice, reviewOfNannyBody(5))
	ofBob := want[babysitter.Review](t, r, http.StatusCreated)
	if ofBob.Direction != babysitter.ReviewOfNanny || ofBob.Reviewer != "alice" || ofBob.Reviewee != "bob" || ofBob.Rating != 5 ||
		ofBob.JobID != st.job.ID || ofBob.Text != "Wonderful evening" || !ofBob.Answers["punctual"] || ofBob.ID == "" {
		t.Fatalf("alice's review %+v", ofBob)
	}
	if loc := r.header.Get("Location"); loc != "/v1/users/bob/reviews" {
		t.Errorf("Location %q", loc)
	}
	ofAlice := want[babysitter.Review](t, e.do("POST", jobs+"/reviews", st.bob, reviewOfParentBody(4)), http.StatusCreated)
	if ofAlice.Direction != babysitter.ReviewOfParent || ofAlice.Reviewer != "bob" || ofAlice.Reviewee != "alice" || ofAlice.Rating != 4 {
		t.Fatalf("bob's review %+v", ofAlice)
	}

	// The rating is public, with its average.
	for name, wantRating := range map[string]string{"bob": `{"average":5,"count":1,"sum":5}`, "alice": `{"average":4,"count":1,"sum":4}`} {
		u := want[map[string]any](t, e.do("GET", "/v1/users/"+name, "", nil), http.StatusOK)
		if got, _ := json.Marshal(u["rating"]); string(got) != wantRating {
			t.Errorf("%s's rating %s, want %s", name, got, wantRating)
		}
	}

	// The reviews are public too, for anyone with or without a token.
	for _, tok := range []string{"", st.carol} {
		page := want[babysitter.Page[babysitter.Review]](t, e.do("GET", "/v1/users/bob/reviews?limit=10", tok, nil), http.StatusOK)
		if len(page.Items) != 1 || page.Items[0].ID != ofBob.ID || page.Items[0].Rating != 5 || page.NextCursor != "" ||
			fmt.Sprint(page.Items[0].Answers) != fmt.Sprint(ofBob.Answers) {
			t.Errorf("bob's reviews %+v", page)
		}
	}
	if page := want[babysitter.Page[babysitter.Review]](t, e.do("GET", "/v1/users/alice/reviews", "", nil), http.StatusOK); len(page.Items) != 1 || page.Items[0].Reviewer != "bob" {
		t.Errorf("alice's reviews %+v", page)
	}
	if page := want[babysitter.Page[babysitter.Review]](t, e.do("GET", "/v1/users/carol/reviews", "", nil), http.StatusOK); len(page.Items) != 0 {
		t.Errorf("carol's reviews %+v", page)
	}
}

// reviewOfNannyBody is a valid review of the booked nanny by the parent.
func reviewOfNannyBody(rating int) map[string]any {
	return map[string]any{
		"rating":  rating,
		"text":    "Wonderful evening",
		"answers": map[string]bool{"punctual": true, "wouldBookAgain": true, "followedInstructions": true},
	}
}

// reviewOfParentBody is a valid review of the parent by the booked nanny.
func reviewOfParentBody(rating int) map[string]any {
	return map[string]any{
		"rating":  rating,
		"answers": map[string]bool{"clearInstructions": true, "paidAsAgreed": true, "wouldWorkAgain": false},
	}
}

// wantStatuses checks the job's applications as its parent lists them.
func wantStatuses(t *testing.T, e *testEnv, tok, jobID string, wantApps map[string]babysitter.ApplicationStatus) error {
	ja := want[babysitter.JobApplications](t, e.do("GET", "/v1/jobs/"+jobID+"/applications", tok, nil), http.StatusOK)
	got := map[string]babysitter.ApplicationStatus{}
	for _, a := range ja.Applications.Items {
		got[a.ID] = a.Status
	}
	if ja.Job.ID != jobID || fmt.Sprint(got) != fmt.Sprint(wantApps) {
		return fmt.Errorf("applications of %s: %v, want %v", jobID, got, wantApps)
	}
	return nil
}

// moreOperations covers the operations the story does not: lists with
// pagination, profile and job edits, withdrawal, cancellation, deletion.
func moreOperations(t *testing.T, e *testEnv, st story) {
	// ListUsers pages through the nannies one at a time.
	eventually(t, 10*time.Second, func() error {
		var names []string
		cursor := ""
		for range 5 {
			page := want[babysitter.Page[babysitter.User]](t, e.do("GET", "/v1/users?type=NANNY&limit=1&cursor="+url.QueryEscape(cursor), st.admin, nil), http.StatusOK)
			for _, u := range page.Items {
				names = append(names, u.Username)
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		if fmt.Sprint(names) != "[bob carol]" || cursor != "" {
			return fmt.Errorf("nannies %v, last cursor %q", names, cursor)
		}
		return nil
	})

	// A nanny edits her profile.
	if u := want[babysitter.User](t, e.do("PATCH", "/v1/users/bob", st.bob, map[string]string{"about": "Ten years with kids"}), http.StatusOK); u.About != "Ten years with kids" {
		t.Errorf("updated about = %q", u.About)
	}

	// Bob's profile picture: its URL is set from the upload, anyone reads
	// it without a signature; a new one replaces it.
	png := []byte("\x89PNG bob's face")
	pic := e.upload(st.bob, "bob", babysitter.UploadPicture, "image/png", png)
	u := want[babysitter.User](t, e.do("POST", "/v1/users/bob/uploads/"+pic.ID+"/confirm", st.bob, nil), http.StatusOK)
	if !strings.HasSuffix(u.ProfilePicURL, babysitter.PictureKeyPrefix+pic.ID) || strings.Contains(u.ProfilePicURL, "bob") {
		t.Errorf("profilePicUrl %q: want the picture's key, no username", u.ProfilePicURL)
	}
	if got := e.fetch(babysitter.PresignedRequest{Method: http.MethodGet, URL: u.ProfilePicURL}); !bytes.Equal(got, png) {
		t.Errorf("anonymous GET of the picture: %q", got)
	}
	if pub := want[babysitter.User](t, e.do("GET", "/v1/users/bob", "", nil), http.StatusOK); pub.ProfilePicURL != u.ProfilePicURL {
		t.Errorf("the public profile's picture %q", pub.ProfilePicURL)
	}
	wantProblem(t, e.do("PATCH", "/v1/users/bob", st.bob, map[string]string{"profilePicUrl": "https://evil.example/x.png"}), http.StatusBadRequest, "invalid_input")

	// A second job: edited, applied to, withdrawn from, cancelled.
	job2 := want[babysitter.Job](t, e.do("POST", "/v1/jobs", st.alice, jobBody()), http.StatusCreated)
	if j := want[babysitter.Job](t, e.do("PATCH", "/v1/jobs/"+job2.ID, st.alice, map[string]any{"description": "Three kids now", "numberOfKids": 3}), http.StatusOK); j.Description != "Three kids now" || j.NumberOfKids != 3 {
		t.Errorf("updated job %+v", j)
	}
	app := want[babysitter.Application](t, e.do("POST", "/v1/jobs/"+job2.ID+"/applications", st.bob, nil), http.StatusCreated)
	if a := want[babysitter.Application](t, e.do("POST", "/v1/jobs/"+job2.ID+"/applications/"+app.ID+"/withdraw", st.bob, nil), http.StatusOK); a.Status != babysitter.ApplicationWithdrawn {
		t.Errorf("withdrawn application %+v", a)
	}
	if j := want[babysitter.Job](t, e.do("POST", "/v1/jobs/"+job2.ID+"/cancel", st.alice, nil), http.StatusOK); j.Status != babysitter.JobCancelled {
		t.Errorf("cancelled job %+v", j)
	}

	// Alice lists her jobs, newest first.
	eventually(t, 10*time.Second, func() error {
		pj := want[babysitter.ParentJobs](t, e.do("GET", "/v1/users/alice/jobs", st.alice, nil), http.StatusOK)
		var ids []string
		for _, j := range pj.Jobs.Items {
			ids = append(ids, j.ID)
		}
		if pj.Parent.Username != "alice" || !slices.Equal(ids, []string{job2.ID, st.job.ID}) {
			return fmt.Errorf("alice's jobs %v, want [%s %s]", ids, job2.ID, st.job.ID)
		}
		return nil
	})

	// A new nanny signs up, uploads her identity document and a picture,
	// and deletes her account again: her objects go with it.
	dave := token(t, "dave", "nanny")
	want[babysitter.User](t, e.do("POST", "/v1/users", dave, userBody("dave", babysitter.UserNanny)), http.StatusCreated)
	var daves []string
	for _, k := range []babysitter.UploadKind{babysitter.UploadDocument, babysitter.UploadPicture} {
		up := e.upload(dave, "dave", k, "image/jpeg", []byte("jpeg of dave"))
		want[babysitter.User](t, e.do("POST", "/v1/users/dave/uploads/"+up.ID+"/confirm", dave, nil), http.StatusOK)
		daves = append(daves, up.Key())
	}
	if keys := e.objectKeys(); !slices.Contains(keys, daves[0]) || !slices.Contains(keys, daves[1]) {
		t.Fatalf("dave's objects %v are not stored: %v", daves, keys)
	}
	want[struct{}](t, e.do("DELETE", "/v1/users/dave", dave, nil), http.StatusNoContent)
	wantProblem(t, e.do("GET", "/v1/users/dave", "", nil), http.StatusNotFound, "not_found")
	if keys := e.objectKeys(); slices.Contains(keys, daves[0]) || slices.Contains(keys, daves[1]) {
		t.Errorf("dave's objects outlive his account: %v", keys)
	}

	// Health.
	want[map[string]string](t, e.do("GET", "/healthz", "", nil), http.StatusOK)
	want[map[string]string](t, e.do("GET", "/healthz?ready=1", "", nil), http.StatusOK)
	want[map[string]string](t, e.do("GET", "/readyz", "", nil), http.StatusOK)
	if r := e.do("GET", "/openapi.yaml", "", nil); r.status != http.StatusOK || string(r.body) != string(OpenAPI()) {
		t.Errorf("GET /openapi.yaml: %d, %d bytes", r.status, len(r.body))
	}
}

// errorCase is one refused request.
type errorCase struct {
	name         string
	method, path string
	tok          string
	body         any
	header       http.Header
	status       int
	code         string
	// tried: the request reaches a store write that its condition refuses
	// (409, or a 403 decided by the account's status). Otherwise it must
	// be refused before any write is even attempted.
	tried bool
	check func(t *testing.T, p Problem, r response)
}

// errorStatuses checks each error status, and that no failing request
// wrote anything.
func errorStatuses(t *testing.T, e *testEnv, st story) {
	otherKey, err := jwtauth.MintDevToken("some-other-key-0123456789abcdef", "alice", []string{"parent"}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	expired, err := jwtauth.MintDevToken(testKey, "alice", []string{"parent"}, time.Hour, time.Now().Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	erin := token(t, "erin", "nanny")
	frank := token(t, "frank", "nanny")
	want[babysitter.User](t, e.do("POST", "/v1/users", frank, userBody("frank", babysitter.UserNanny)), http.StatusCreated)
	jobs := "/v1/jobs/" + st.job.ID
	// gail, a parent with an OPEN job, cannot delete her account.
	gail := token(t, "gail", "parent")
	want[babysitter.User](t, e.do("POST", "/v1/users", gail, userBody("gail", babysitter.UserParent)), http.StatusCreated)
	gailJob := "/v1/jobs/" + want[babysitter.Job](t, e.do("POST", "/v1/jobs", gail, jobBody()), http.StatusCreated).ID
	// frank has requested a document and not sent it; gail has as many
	// uploads waiting as an account may.
	pngRequest := map[string]any{"kind": "picture", "contentType": "image/png", "contentLength": 10}
	frankReq := want[babysitter.UploadTicket](t, e.do("POST", "/v1/users/frank/uploads", frank,
		map[string]any{"kind": "document", "contentType": "application/pdf", "contentLength": 10}), http.StatusCreated).Upload.ID
	for range babysitter.MaxRequestedUploads {
		want[babysitter.UploadTicket](t, e.do("POST", "/v1/users/gail/uploads", gail, pngRequest), http.StatusCreated)
	}
	const (
		unknownJob = "/v1/jobs/01931e2c-0000-7000-8000-000000000000"
		badJob     = "/v1/jobs/not%21an-id" // "not!an-id": an ID has letters, digits, '-' and '_'
	)
	fieldsAre := func(fields ...string) func(t *testing.T, p Problem, r response) {
		return func(t *testing.T, p Problem, _ response) {
			var got []string
			for _, f := range p.Errors {
				got = append(got, f.Field)
				if f.Message == "" {
					t.Errorf("field %s has no message", f.Field)
				}
			}
			for _, f := range fields {
				if !slices.Contains(got, f) {
					t.Errorf("errors name %v, want %v among them", got, fields)
				}
			}
		}
	}
	detailHas := func(s string) func(t *testing.T, p Problem, r response) {
		return func(t *testing.T, p Problem, _ response) {
			if !strings.Contains(p.Detail, s) {
				t.Errorf("detail %q lacks %q", p.Detail, s)
			}
		}
	}
	cases := []errorCase{
		{name: "no token", method: "POST", path: "/v1/jobs", body: jobBody(), status: 401, code: "unauthenticated",
			check: func(t *testing.T, _ Problem, r response) {
				if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
				}
			}},
		{name: "bad signature", method: "POST", path: "/v1/jobs", tok: otherKey, body: jobBody(), status: 401, code: "unauthenticated", check: detailHas("signature")},
		{name: "expired token", method: "GET", path: jobs, tok: expired, status: 401, code: "unauthenticated", check: detailHas("expired")},
		{name: "not a bearer token", method: "GET", path: jobs, header: http.Header{"Authorization": {"Basic YWxpY2U6cHc="}}, status: 401, code: "unauthenticated"},
		{name: "bad token on a public route", method: "GET", path: "/v1/users/alice", tok: otherKey, status: 401, code: "unauthenticated"},
		{name: "nanny creating a job", method: "POST", path: "/v1/jobs", tok: st.bob, body: jobBody(), status: 403, code: "forbidden"},
		{name: "unverified nanny applying", method: "POST", path: "/v1/jobs/" + st.job.ID + "/applications", tok: frank, status: 403, code: "forbidden", tried: true},
		{name: "unknown job", method: "GET", path: "/v1/jobs/01931e2c-0000-7000-8000-000000000000", tok: st.alice, status: 404, code: "not_found"},
		{name: "unknown route", method: "GET", path: "/v1/nothing", tok: st.alice, status: 404, code: "not_found"},
		{name: "wrong method", method: "DELETE", path: "/v1/jobs", tok: st.alice, status: 405, code: "method_not_allowed",
			check: func(t *testing.T, _ Problem, r response) {
				if a := r.header.Get("Allow"); !strings.Contains(a, "GET") || !strings.Contains(a, "POST") {
					t.Errorf("Allow %q", a)
				}
			}},
		{name: "duplicate username", method: "POST", path: "/v1/users", tok: st.alice,
			body: func() map[string]any {
				b := userBody("alice", babysitter.UserParent)
				b["email"] = "alice2@example.com"
				return b
			}(),
			status: 409, code: "already_exists", tried: true,
			check: func(t *testing.T, p Problem, _ response) {
				if p.Field != babysitter.FieldUsername {
					t.Errorf("field %q, want username", p.Field)
				}
			}},
		{name: "second booking", method: "POST", path: jobs + "/booking", tok: st.alice, body: map[string]string{"applicationId": st.carolApp.ID}, status: 409, code: "conflict", tried: true},
		{name: "applying twice", method: "POST", path: jobs + "/applications", tok: st.bob, status: 409, code: "conflict", tried: true},
		{name: "editing a closed job", method: "PATCH", path: jobs, tok: st.alice, body: map[string]string{"city": "Hamburg"}, status: 409, code: "conflict", tried: true},
		{name: "completing twice", method: "POST", path: jobs + "/complete", tok: st.alice, status: 409, code: "conflict", tried: true},
		{name: "nanny completing", method: "POST", path: jobs + "/complete", tok: st.bob, status: 403, code: "forbidden"},
		{name: "second review", method: "POST", path: jobs + "/reviews", tok: st.alice, body: reviewOfNannyBody(1), status: 409, code: "already_exists", tried: true,
			check: func(t *testing.T, p Problem, _ response) {
				if p.Field != babysitter.FieldReview {
					t.Errorf("field %q, want review", p.Field)
				}
			}},
		{name: "stranger reviewing", method: "POST", path: jobs + "/reviews", tok: st.carol, body: reviewOfParentBody(1), status: 403, code: "forbidden"},
		{name: "invalid review", method: "POST", path: jobs + "/reviews", tok: st.alice,
			body:   map[string]any{"rating": 6, "answers": map[string]bool{"punctual": true, "wouldBookAgain": true, "smokes": false}},
			status: 400, code: "invalid_input", check: fieldsAre("rating", "answers.followedInstructions", "answers.smokes")},
		{name: "review answers of the wrong type", method: "POST", path: jobs + "/reviews", tok: st.bob,
			body: rawBody(`{"rating":5,"answers":{"clearInstructions":"yes"}}`), status: 400, code: "invalid_input", check: fieldsAre("answers")},
		{name: "review without a body", method: "POST", path: jobs + "/reviews", tok: st.alice, body: rawBody(``), status: 400, code: "invalid_input", check: fieldsAre("body")},
		{name: "bad limit on public reviews", method: "GET", path: "/v1/users/bob/reviews?limit=0", status: 400, code: "invalid_input", check: fieldsAre("limit")},
		{name: "near and jobStatus", method: "GET", path: nearQuery + "&radiusKm=10&jobStatus=OPEN", tok: st.bob, status: 400, code: "invalid_input", check: fieldsAre("jobStatus")},
		{name: "latitude not a number", method: "GET", path: "/v1/jobs?latitude=somewhere&longitude=13.4&radiusKm=10", tok: st.bob, status: 400, code: "invalid_input", check: fieldsAre("latitude")},
		{name: "latitude without longitude", method: "GET", path: "/v1/jobs?latitude=52.5&radiusKm=10", tok: st.bob, status: 400, code: "invalid_input", check: fieldsAre("longitude")},
		{name: "near off the globe", method: "GET", path: "/v1/jobs?latitude=91&longitude=13.4&radiusKm=10", tok: st.bob, status: 400, code: "invalid_input", check: fieldsAre("latitude")},
		{name: "near without a radius", method: "GET", path: nearQuery, tok: st.bob, status: 400, code: "invalid_input", check: fieldsAre("radiusKm")},
		{name: "radius not a number", method: "GET", path: nearQuery + "&radiusKm=far", tok: st.bob, status: 400, code: "invalid_input", check: fieldsAre("radiusKm")},
		{name: "radius over the maximum", method: "GET", path: nearQuery + "&radiusKm=51", tok: st.bob, status: 400, code: "invalid_input", check: fieldsAre("radiusKm")},
		{name: "radius without a point", method: "GET", path: "/v1/jobs?jobStatus=OPEN&radiusKm=10", tok: st.bob, status: 400, code: "invalid_input", check: fieldsAre("radiusKm")},
		{name: "unknown job status", method: "GET", path: "/v1/jobs?jobStatus=DONE", tok: st.bob, status: 400, code: "invalid_input", check: fieldsAre("jobStatus")},
		{name: "unknown query parameter", method: "GET", path: "/v1/jobs?status=OPEN", tok: st.bob, status: 400, code: "invalid_input", check: fieldsAre("status")},
		{name: "parent asking for jobs near", method: "GET", path: nearQuery + "&radiusKm=10", tok: st.alice, status: 403, code: "forbidden"},
		{name: "anonymous jobs near", method: "GET", path: nearQuery + "&radiusKm=10", status: 401, code: "unauthenticated"},
		{name: "invalid input", method: "POST", path: "/v1/users", tok: erin,
			body:   map[string]any{"username": "erin", "email": "not-an-email", "type": "NANNY", "dateOfBirth": "2020-01-01"},
			status: 400, code: "invalid_input", check: fieldsAre("email", "firstName", "lastName", "dateOfBirth")},
		{name: "malformed JSON", method: "POST", path: "/v1/users", tok: erin, body: rawBody("{\n  \"username\": \"erin\",\n  \"email\" \"x\"\n}"),
			status: 400, code: "invalid_input", check: detailHas("line 3")},
		{name: "truncated JSON", method: "POST", path: "/v1/users", tok: erin, body: rawBody(`{"username": "erin"`), status: 400, code: "invalid_input", check: fieldsAre("body")},
		{name: "unknown field", method: "POST", path: "/v1/users", tok: erin,
			body:   func() map[string]any { b := userBody("erin", babysitter.UserNanny); b["nickname"] = "E"; return b }(),
			status: 400, code: "invalid_input", check: fieldsAre("nickname")},
		{name: "wrong type", method: "POST", path: "/v1/jobs", tok: st.alice,
			body:   func() map[string]any { b := jobBody(); b["numberOfKids"] = "two"; return b }(),
			status: 400, code: "invalid_input", check: fieldsAre("numberOfKids")},
		{name: "trailing data", method: "PUT", path: "/v1/users/frank/status", tok: st.admin, body: rawBody(`{"status":"VERIFIED"} {}`), status: 400, code: "invalid_input", check: detailHas("after the JSON object")},
		{name: "not an object", method: "POST", path: jobs + "/applications", tok: erin, body: rawBody(`null`), status: 400, code: "invalid_input"},
		{name: "empty body", method: "POST", path: "/v1/jobs", tok: st.alice, body: rawBody(``), status: 400, code: "invalid_input"},
		{name: "bad limit", method: "GET", path: "/v1/users?type=NANNY&limit=abc", tok: st.admin, status: 400, code: "invalid_input", check: fieldsAre("limit")},
		{name: "zero limit", method: "GET", path: "/v1/jobs?jobStatus=OPEN&limit=0", tok: st.bob, status: 400, code: "invalid_input", check: fieldsAre("limit")},
		{name: "limit over the maximum", method: "GET", path: "/v1/jobs?jobStatus=OPEN&limit=101", tok: st.bob, status: 400, code: "invalid_input", check: fieldsAre("limit")},
		{name: "foreign cursor", method: "GET", path: "/v1/jobs?jobStatus=OPEN&cursor=bm90LWEtY3Vyc29y", tok: st.bob, status: 400, code: "invalid_input", check: fieldsAre("cursor")},
		// Each route's own refusals: an ID that cannot be one (400), the
		// wrong caller (403), nothing there (404), the wrong state (409).
		{name: "admin creating an account", method: "POST", path: "/v1/users", tok: st.admin, body: userBody("admin", babysitter.UserParent), status: 403, code: "forbidden"},
		{name: "bad username", method: "GET", path: "/v1/users/Not-A-Name", status: 400, code: "invalid_input", check: fieldsAre("username")},
		{name: "editing another's profile", method: "PATCH", path: "/v1/users/alice", tok: st.bob, body: map[string]string{"about": "x"}, status: 403, code: "forbidden"},
		{name: "editing nobody's profile", method: "PATCH", path: "/v1/users/nobody", tok: st.admin, body: map[string]string{"about": "x"}, status: 404, code: "not_found", tried: true},
		{name: "deleting a bad username", method: "DELETE", path: "/v1/users/A", tok: st.admin, status: 400, code: "invalid_input", check: fieldsAre("username")},
		{name: "deleting another's account", method: "DELETE", path: "/v1/users/alice", tok: st.bob, status: 403, code: "forbidden"},
		{name: "deleting nobody", method: "DELETE", path: "/v1/users/nobody", tok: st.admin, status: 404, code: "not_found", tried: true},
		{name: "deleting a parent with an OPEN job", method: "DELETE", path: "/v1/users/gail", tok: gail, status: 409, code: "conflict", tried: true},
		{name: "a parent setting a status", method: "PUT", path: "/v1/users/frank/status", tok: st.alice, body: map[string]string{"status": "VERIFIED"}, status: 403, code: "forbidden"},
		{name: "the status of nobody", method: "PUT", path: "/v1/users/nobody/status", tok: st.admin, body: map[string]string{"status": "DEACTIVATED"}, status: 404, code: "not_found", tried: true},
		{name: "verifying without a document", method: "PUT", path: "/v1/users/frank/status", tok: st.admin, body: map[string]string{"status": "VERIFIED"}, status: 400, code: "invalid_input", check: fieldsAre("uploadId")},
		{name: "verifying on another's document", method: "PUT", path: "/v1/users/frank/status", tok: st.admin, body: map[string]string{"status": "VERIFIED", "uploadId": st.docs["carol"]}, status: 404, code: "not_found", tried: true},
		{name: "verifying on a document not uploaded", method: "PUT", path: "/v1/users/frank/status", tok: st.admin, body: map[string]string{"status": "VERIFIED", "uploadId": frankReq}, status: 409, code: "conflict", tried: true},
		{name: "uploading to another's account", method: "POST", path: "/v1/users/alice/uploads", tok: st.bob, body: pngRequest, status: 403, code: "forbidden"},
		{name: "an admin uploading", method: "POST", path: "/v1/users/admin/uploads", tok: st.admin, body: pngRequest, status: 403, code: "forbidden"},
		{name: "a GIF document", method: "POST", path: "/v1/users/frank/uploads", tok: frank, body: map[string]any{"kind": "document", "contentType": "image/gif", "contentLength": 10}, status: 400, code: "invalid_input", check: fieldsAre("contentType")},
		{name: "an oversize picture", method: "POST", path: "/v1/users/frank/uploads", tok: frank, body: map[string]any{"kind": "picture", "contentType": "image/png", "contentLength": babysitter.MaxPictureSize + 1}, status: 400, code: "invalid_input", check: fieldsAre("contentLength")},
		{name: "an unknown upload kind", method: "POST", path: "/v1/users/frank/uploads", tok: frank, body: map[string]any{"kind": "video", "contentType": "video/mp4", "contentLength": 10}, status: 400, code: "invalid_input", check: fieldsAre("kind")},
		{name: "too many uploads waiting", method: "POST", path: "/v1/users/gail/uploads", tok: gail, body: pngRequest, status: 409, code: "conflict", tried: true},
		{name: "confirming a bad upload ID", method: "POST", path: "/v1/users/frank/uploads/not-an-id/confirm", tok: frank, status: 400, code: "invalid_input", check: fieldsAre("uploadId")},
		{name: "confirming another's upload", method: "POST", path: "/v1/users/frank/uploads/" + frankReq + "/confirm", tok: st.bob, status: 403, code: "forbidden"},
		{name: "confirming an upload of another account", method: "POST", path: "/v1/users/bob/uploads/" + frankReq + "/confirm", tok: st.bob, status: 404, code: "not_found"},
		{name: "confirming before the PUT", method: "POST", path: "/v1/users/frank/uploads/" + frankReq + "/confirm", tok: frank, status: 409, code: "conflict"},
		{name: "a document by its owner", method: "GET", path: "/v1/users/carol/documents/" + st.docs["carol"], tok: st.carol, status: 403, code: "forbidden"},
		{name: "a document without a token", method: "GET", path: "/v1/users/carol/documents/" + st.docs["carol"], status: 401, code: "unauthenticated"},
		{name: "a document of a bad upload ID", method: "GET", path: "/v1/users/carol/documents/x", tok: st.admin, status: 400, code: "invalid_input", check: fieldsAre("uploadId")},
		{name: "another user's document", method: "GET", path: "/v1/users/bob/documents/" + st.docs["carol"], tok: st.admin, status: 404, code: "not_found"},
		{name: "a document not uploaded", method: "GET", path: "/v1/users/frank/documents/" + frankReq, tok: st.admin, status: 409, code: "conflict"},
		{name: "jobs of a bad username", method: "GET", path: "/v1/users/A/jobs", tok: st.admin, status: 400, code: "invalid_input", check: fieldsAre("username")},
		{name: "jobs of nobody", method: "GET", path: "/v1/users/nobody/jobs", tok: st.admin, status: 404, code: "not_found"},
		{name: "applications of a bad username", method: "GET", path: "/v1/users/A/applications", tok: st.admin, status: 400, code: "invalid_input", check: fieldsAre("username")},
		{name: "applications of nobody", method: "GET", path: "/v1/users/nobody/applications", tok: st.admin, status: 404, code: "not_found"},
		{name: "bad token on public reviews", method: "GET", path: "/v1/users/bob/reviews", tok: otherKey, status: 401, code: "unauthenticated"},
		{name: "bad job ID", method: "GET", path: badJob, tok: st.alice, status: 400, code: "invalid_input"},
		{name: "nanny editing a job", method: "PATCH", path: gailJob, tok: st.bob, body: map[string]string{"city": "Hamburg"}, status: 403, code: "forbidden"},
		{name: "editing an unknown job", method: "PATCH", path: unknownJob, tok: st.admin, body: map[string]string{"city": "Hamburg"}, status: 404, code: "not_found", tried: true},
		{name: "cancelling a bad job ID", method: "POST", path: badJob + "/cancel", tok: st.alice, status: 400, code: "invalid_input"},
		{name: "cancelling an unknown job", method: "POST", path: unknownJob + "/cancel", tok: st.alice, status: 404, code: "not_found", tried: true},
		{name: "cancelling a COMPLETED job", method: "POST", path: jobs + "/cancel", tok: st.alice, status: 409, code: "conflict", tried: true},
		{name: "completing a bad job ID", method: "POST", path: badJob + "/complete", tok: st.alice, status: 400, code: "invalid_input"},
		{name: "completing an unknown job", method: "POST", path: unknownJob + "/complete", tok: st.alice, status: 404, code: "not_found", tried: true},
		{name: "applying to an unknown job", method: "POST", path: unknownJob + "/applications", tok: st.bob, status: 404, code: "not_found", tried: true},
		{name: "applications of a bad job ID", method: "GET", path: badJob + "/applications", tok: st.alice, status: 400, code: "invalid_input"},
		{name: "applications of an unknown job", method: "GET", path: unknownJob + "/applications", tok: st.admin, status: 404, code: "not_found"},
		{name: "withdrawing a bad application ID", method: "POST", path: jobs + "/applications/not%21an-id/withdraw", tok: st.bob, status: 400, code: "invalid_input"},
		{name: "withdrawing an unknown application", method: "POST", path: jobs + "/applications/01931e2c-0000-7000-8000-000000000001/withdraw", tok: st.bob, status: 404, code: "not_found", tried: true},
		{name: "withdrawing an ACCEPTED application", method: "POST", path: jobs + "/applications/" + st.bobApp.ID + "/withdraw", tok: st.bob, status: 409, code: "conflict", tried: true},
		{name: "nanny booking", method: "POST", path: gailJob + "/booking", tok: st.bob, body: map[string]string{"applicationId": st.bobApp.ID}, status: 403, code: "forbidden"},
		{name: "booking an unknown job", method: "POST", path: unknownJob + "/booking", tok: st.alice, body: map[string]string{"applicationId": st.bobApp.ID}, status: 404, code: "not_found", tried: true},
		{name: "reconciling a bad job ID", method: "POST", path: badJob + "/reconcile", tok: st.alice, status: 400, code: "invalid_input"},
		{name: "reconciling an unknown job", method: "POST", path: unknownJob + "/reconcile", tok: st.alice, status: 404, code: "not_found"},
		{name: "reconciling an OPEN job", method: "POST", path: gailJob + "/reconcile", tok: gail, status: 409, code: "conflict"},
		{name: "reviewing an unknown job", method: "POST", path: unknownJob + "/reviews", tok: st.alice, body: reviewOfNannyBody(5), status: 404, code: "not_found", tried: true},
		{name: "big body", method: "PATCH", path: "/v1/users/alice", tok: st.alice,
			body: map[string]string{"about": strings.Repeat("x", 100<<10)}, status: 413, code: "body_too_large"},
		{name: "wrong content type", method: "POST", path: "/v1/jobs", tok: st.alice, body: jobBody(),
			header: http.Header{"Content-Type": {"text/plain"}}, status: 415, code: "unsupported_media_type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.snapshot()
			r := e.doWith(c.method, c.path, c.tok, c.body, c.header)
			p := wantProblem(t, r, c.status, c.code)
			if c.check != nil {
				c.check(t, p, r)
			}
			e.noWrites(before, c.tried, c.name)
		})
	}
}

// upload has the user (tok) request an upload to their account, sends its
// presigned PUT with a plain HTTP client — no AWS code, no token — and
// returns the upload (not confirmed).
func (e *testEnv) upload(tok, username string, kind babysitter.UploadKind, contentType string, body []byte) babysitter.Upload {
	e.t.Helper()
	ticket := want[babysitter.UploadTicket](e.t, e.do("POST", "/v1/users/"+username+"/uploads", tok,
		map[string]any{"kind": kind, "contentType": contentType, "contentLength": len(body)}), http.StatusCreated)
	if ticket.Upload.Kind != kind || !babysitter.ValidUploadID(ticket.Upload.ID) || strings.Contains(ticket.Request.URL, username) {
		e.t.Fatalf("upload ticket %+v: want a fresh upload ID and no username in the URL", ticket)
	}
	resp, err := blobtest.Do(e.t.Context(), http.DefaultClient, ticket.Request, body)
	if err != nil || resp.Status != http.StatusOK {
		e.t.Fatalf("PUT through the presigned URL: %d %s, %v", resp.Status, resp.Body, err)
	}
	return ticket.Upload
}

// fetch sends a presigned GET (or a plain one) and returns the body of
// its 200.
func (e *testEnv) fetch(pr babysitter.PresignedRequest) []byte {
	e.t.Helper()
	resp, err := blobtest.Do(e.t.Context(), http.DefaultClient, pr, nil)
	if err != nil || resp.Status != http.StatusOK {
		e.t.Fatalf("GET %s: %d %s, %v", pr.URL, resp.Status, resp.Body, err)
	}
	return resp.Body
}

// notifications are what the job's applications, as its parent (tok)
// lists them, call for: booked and bookingConfirmed for the accepted one,
// declined for each declined one — built by hand, not by the library's
// JobNotifications.
func (e *testEnv) notifications(t *testing.T, tok, jobID string) []babysitter.Notification {
	t.Helper()
	ja := want[babysitter.JobApplications](t, e.do("GET", "/v1/jobs/"+jobID+"/applications", tok, nil), http.StatusOK)
	var out []babysitter.Notification
	for _, a := range ja.Applications.Items {
		ref := babysitter.ApplicationRef{JobID: jobID, ApplicationID: a.ID}
		switch a.Status {
		case babysitter.ApplicationAccepted:
			out = append(out, babysitter.NewNotification(babysitter.NotifyBooked, ref, a.NannyUsername, a.UpdatedOn),
				babysitter.NewNotification(babysitter.NotifyBookingConfirmed, ref, ja.Job.ParentUsername, a.UpdatedOn))
		case babysitter.ApplicationDeclined:
			out = append(out, babysitter.NewNotification(babysitter.NotifyDeclined, ref, a.NannyUsername, a.UpdatedOn))
		}
	}
	return out
}
