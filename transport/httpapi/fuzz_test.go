package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/babysitter-go/babysitter"
	bmemory "github.com/babysitter-go/babysitter/blob/memory"
	"github.com/babysitter-go/babysitter/transport/httpapi/jwtauth"
)

// fuzzRoute is one route that takes a JSON body, with a caller allowed to
// use it, so that fuzzed bodies reach the Service rather than stop at
// authentication.
type fuzzRoute struct {
	method, path, tok string
}

// fuzzWorld is a handler on the memory backends holding a verified parent
// with an open job, a verified nanny who applied to it, a second job of
// theirs booked and COMPLETED (open to their reviews), and tokens for an
// admin and for a nanny without an account yet — enough state for every
// body route to succeed on a valid body.
type fuzzWorld struct {
	h      http.Handler
	store  *countingStore
	queue  *countingQueue
	routes []fuzzRoute
	// seeds[i] is a valid body for routes[i]; applied in order, each
	// succeeds with status[i].
	seeds  []string
	status []int
}

func newFuzzWorld(tb testing.TB) *fuzzWorld {
	store, queue, _ := memoryBackend.open(tb)
	w := &fuzzWorld{store: &countingStore{Store: store}, queue: &countingQueue{Queue: queue}}
	blobs, err := bmemory.New(bmemory.Options{BaseURL: "http://blobs.test/"})
	if err != nil {
		tb.Fatal(err)
	}
	// Request bodies are the point here, not documents: the admin
	// verifies without one.
	svc := babysitter.New(w.store, w.queue, babysitter.Options{Logger: slog.New(slog.DiscardHandler), Blobs: blobs, PublicBaseURL: "http://blobs.test/", VerifyWithoutDocument: true})
	w.h = New(svc, jwtauth.NewHS256(testKey, 0), Options{Logger: slog.New(slog.DiscardHandler)})
	mustJSON := func(v any) string { b, _ := json.Marshal(v); return string(b) }

	pat, nan, admin, newbie := token(tb, "pat", "parent"), token(tb, "nan", "nanny"), token(tb, "admin", "admin"), token(tb, "newbie", "nanny")
	for _, u := range []struct {
		tok, name string
		typ       babysitter.UserType
	}{{pat, "pat", babysitter.UserParent}, {nan, "nan", babysitter.UserNanny}} {
		if rec := w.do("POST", "/v1/users", u.tok, mustJSON(userBody(u.name, u.typ))); rec.Code != http.StatusCreated {
			tb.Fatalf("create %s: %d %s", u.name, rec.Code, rec.Body)
		}
		if rec := w.do("PUT", "/v1/users/"+u.name+"/status", admin, `{"status":"VERIFIED"}`); rec.Code != http.StatusOK {
			tb.Fatalf("verify %s: %d %s", u.name, rec.Code, rec.Body)
		}
	}
	var job babysitter.Job
	if err := json.Unmarshal(w.do("POST", "/v1/jobs", pat, mustJSON(jobBody())).Body.Bytes(), &job); err != nil || job.ID == "" {
		tb.Fatalf("create job: %v", err)
	}
	var app babysitter.Application
	if err := json.Unmarshal(w.do("POST", "/v1/jobs/"+job.ID+"/applications", nan, "").Body.Bytes(), &app); err != nil || app.ID == "" {
		tb.Fatalf("apply: %v", err)
	}
	// A second job, booked and COMPLETED: open to reviews.
	var done babysitter.Job
	if err := json.Unmarshal(w.do("POST", "/v1/jobs", pat, mustJSON(jobBody())).Body.Bytes(), &done); err != nil || done.ID == "" {
		tb.Fatalf("create job: %v", err)
	}
	var doneApp babysitter.Application
	if err := json.Unmarshal(w.do("POST", "/v1/jobs/"+done.ID+"/applications", nan, "").Body.Bytes(), &doneApp); err != nil || doneApp.ID == "" {
		tb.Fatalf("apply: %v", err)
	}
	if rec := w.do("POST", "/v1/jobs/"+done.ID+"/booking", pat, `{"applicationId":"`+doneApp.ID+`"}`); rec.Code != http.StatusOK {
		tb.Fatalf("book: %d %s", rec.Code, rec.Body)
	}
	if rec := w.do("POST", "/v1/jobs/"+done.ID+"/complete", pat, ""); rec.Code != http.StatusOK {
		tb.Fatalf("complete: %d %s", rec.Code, rec.Body)
	}

	w.routes = []fuzzRoute{
		{"POST", "/v1/users", newbie},                            // babysitter.NewUser
		{"PATCH", "/v1/users/nan", nan},                          // babysitter.UserPatch
		{"PUT", "/v1/users/newbie/status", admin},                // statusRequest (verifies newbie once seed 0 ran)
		{"POST", "/v1/jobs", pat},                                // babysitter.JobDetails
		{"PATCH", "/v1/jobs/" + job.ID, pat},                     // babysitter.JobPatch
		{"POST", "/v1/jobs/" + job.ID + "/applications", newbie}, // babysitter.NewApplication
		{"POST", "/v1/jobs/" + job.ID + "/booking", pat},         // bookingRequest
		{"POST", "/v1/jobs/" + done.ID + "/reviews", pat},        // babysitter.NewReview, of the nanny
		{"POST", "/v1/jobs/" + done.ID + "/reviews", nan},        // babysitter.NewReview, of the parent
		{"POST", "/v1/users/nan/uploads", nan},                   // babysitter.UploadRequest
	}
	w.seeds = []string{
		mustJSON(userBody("newbie", babysitter.UserNanny)),
		`{"about":"Ten years with kids","latitude":52.5,"longitude":13.4,"hourlyRate":{"amount":1500,"currency":"EUR"},"spokenLanguages":["de","en"]}`,
		`{"status":"VERIFIED"}`,
		mustJSON(jobBody()),
		`{"description":"Three kids now","numberOfKids":3,"startTime":"17:30"}`,
		`{"message":"I love kids"}`,
		`{"applicationId":"` + app.ID + `"}`,
		`{"rating":5,"text":"Wonderful evening","answers":{"punctual":true,"wouldBookAgain":true,"followedInstructions":true}}`,
		`{"rating":4,"answers":{"clearInstructions":true,"paidAsAgreed":true,"wouldWorkAgain":false}}`,
		`{"kind":"document","contentType":"application/pdf","contentLength":1234}`,
	}
	w.status = []int{201, 200, 200, 201, 200, 201, 200, 201, 201, 201}
	return w
}

// do serves one request in process.
func (w *fuzzWorld) do(method, path, tok, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, r)
	return rec
}

// FuzzRequestBodies sends arbitrary bodies to every route that decodes one
// (the first byte picks the route). Whatever the body: no panic, no 5xx,
// always a JSON answer, and a refused request writes nothing — a 400, 413
// or 415 does not even reach a store write.
func FuzzRequestBodies(f *testing.F) {
	w := newFuzzWorld(f)
	for i, body := range w.seeds {
		f.Add(byte(i), body)
	}
	for i, body := range []string{
		``, `null`, `[]`, `{}`, `{"a":1}`, `{"username":`, `{"email":null}`, `{} {}`, `{"status":"ROOT"}`,
		`{"dateOfBirth":"2023-02-30"}`, `{"startTime":"25:00"}`, `{"cost":{"amount":1e30}}`, `{"numberOfKids":-1}`,
		`{"latitude":1e400}`, `{"applicationId":"../../x"}`, `{"message":"` + strings.Repeat("é", 2000) + `"}`,
		"{\"firstName\":\"\xff\xfe\"}", `{"FIRSTNAME":"x"}`, `{"smokes":"yes"}`, `{"activities":[1,2]}`,
	} {
		f.Add(byte(i), body)
	}
	// Upload requests, on the upload route (the last).
	for _, body := range []string{
		`{"kind":"picture","contentType":"image/png","contentLength":0}`, `{"kind":"document","contentType":"image/gif","contentLength":1}`,
		`{"kind":"picture","contentType":"image/png; q=1","contentLength":1}`, `{"kind":"document","contentLength":1e20}`,
		`{"kind":"x","contentType":"../../","contentLength":-1}`, `{"kind":"picture","contentType":"image/png","contentLength":1,"key":"public/x"}`,
	} {
		f.Add(byte(len(w.routes)-1), body)
	}
	// Review bodies, on the review routes.
	for i, body := range []string{
		`{"rating":0,"answers":{}}`, `{"rating":6}`, `{"rating":4.5}`, `{"rating":"5"}`, `{"answers":null}`,
		`{"answers":{"punctual":"yes"}}`, `{"answers":{"":true}}`, `{"answers":[true]}`, `{"rating":5,"text":"` + strings.Repeat("x", 2001) + `"}`,
		`{"rating":5,"answers":{"punctual":true,"wouldBookAgain":true,"followedInstructions":true,"clearInstructions":true}}`,
		`{"rating":3,"answers":{"clearInstructions":true,"paidAsAgreed":true,"wouldWorkAgain":true},"reviewer":"someone"}`,
	} {
		f.Add(byte(len(w.seeds)-3+i%2), body)
	}

	f.Fuzz(func(t *testing.T, sel byte, body string) {
		route := w.routes[int(sel)%len(w.routes)]
		attempts, writes, sent := w.store.attempts.Load(), w.store.writes.Load(), w.queue.sent.Load()
		rec := w.do(route.method, route.path, route.tok, body)
		code := rec.Code
		if code >= 500 || code < 200 || (code >= 300 && code < 400) {
			t.Fatalf("%s %s %q: status %d: %s", route.method, route.path, body, code, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s %q: the answer is not JSON: %q", route.method, route.path, body, rec.Body)
		}
		if code >= 400 {
			if w.store.writes.Load() != writes || w.queue.sent.Load() != sent {
				t.Fatalf("%s %s %q: status %d but something was written", route.method, route.path, body, code)
			}
			if (code == 400 || code == 413 || code == 415) && w.store.attempts.Load() != attempts {
				t.Fatalf("%s %s %q: status %d after a write attempt: %s", route.method, route.path, body, code, rec.Body)
			}
		}
	})
}

// TestFuzzSeedsSucceed keeps the seeds in step with the routes and the
// library: each valid seed, in order, succeeds, so the fuzzer mutates
// bodies that reach the writes, not only ones refused at once.
func TestFuzzSeedsSucceed(t *testing.T) {
	w := newFuzzWorld(t)
	for i, r := range w.routes {
		if rec := w.do(r.method, r.path, r.tok, w.seeds[i]); rec.Code != w.status[i] {
			t.Errorf("seed %d, %s %s: status %d, want %d: %s", i, r.method, r.path, rec.Code, w.status[i], rec.Body)
		}
	}
}
