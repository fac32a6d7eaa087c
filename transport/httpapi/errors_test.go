package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/internal/testlog"
)

// TestProblemFor checks the status and code of every kind of error, and
// that a wrapped error maps like the kind it wraps.
func TestProblemFor(t *testing.T) {
	sdkErr := errors.New("operation error DynamoDB: TransactWriteItems, secret-ish details")
	cases := []struct {
		err    error
		status int
		code   string
	}{
		{babysitter.Errorf(babysitter.ErrNotFound, "job %s", "x"), 404, "not_found"},
		{&babysitter.AlreadyExistsError{Field: babysitter.FieldEmail, Value: "a@b.example"}, 409, "already_exists"},
		{babysitter.Errorf(babysitter.ErrAlreadyExists, "something"), 409, "already_exists"},
		{&babysitter.InvalidInputError{Fields: []babysitter.FieldError{{Field: "email", Message: "bad"}}}, 400, "invalid_input"},
		{babysitter.Errorf(babysitter.ErrInvalidInput, "plain"), 400, "invalid_input"},
		{babysitter.ErrUnauthenticated, 401, "unauthenticated"},
		{babysitter.Errorf(babysitter.ErrForbidden, "no"), 403, "forbidden"},
		{babysitter.Errorf(babysitter.ErrConflict, "job is CLOSED: %w", sdkErr), 409, "conflict"},
		{&http.MaxBytesError{Limit: 10}, 413, "body_too_large"},
		{errUnsupportedMediaType, 415, "unsupported_media_type"},
		{errMethodNotAllowed, 405, "method_not_allowed"},
		{errNoRoute, 404, "not_found"},
		{fmt.Errorf("%w: %w", errAuthUnavailable, errors.New("JWKS https://cognito-idp.example/keys: secret-ish")), 503, "unavailable"},
		{errDraining, 503, "unavailable"},
		{fmt.Errorf("%w: %w", errNotReady, sdkErr), 503, "unavailable"},
		{context.DeadlineExceeded, 503, "timeout"},
		{sdkErr, 500, "internal"},
		{errPanic, 500, "internal"},
	}
	for _, c := range cases {
		for _, err := range []error{c.err, fmt.Errorf("Op: %w", c.err)} {
			p := problemFor(err)
			if p.Status != c.status || p.Code != c.code || p.Title == "" || p.Type == "" {
				t.Errorf("problemFor(%v) = %+v; want %d %s", err, p, c.status, c.code)
			}
			if strings.Contains(p.Detail, "secret-ish") {
				t.Errorf("problemFor(%v) leaks the cause: %q", err, p.Detail)
			}
		}
	}
	if p := problemFor(&babysitter.AlreadyExistsError{Field: babysitter.FieldEmail}); p.Field != babysitter.FieldEmail {
		t.Errorf("already exists: field %q", p.Field)
	}
	if p := problemFor(babysitter.Errorf(babysitter.ErrNotFound, "job %s", "x")); p.Detail != "not found: job x" {
		t.Errorf("detail %q", p.Detail)
	}
}

// TestBookingWhenTheQueueFails: when the decline message cannot be sent,
// the committed booking is still answered as booked (200, declinesQueued
// 0), and the other application is declined with no client action — by
// the sweeper, from the booking's outbox entry.
func TestBookingWhenTheQueueFails(t *testing.T) {
	store, queue, source := memoryBackend.open(t)
	e := newTestEnv(t, store, queue, source)
	alice, bob, carol, admin := token(t, "alice", "parent"), token(t, "bob", "nanny"), token(t, "carol", "nanny"), token(t, "admin", "admin")
	for _, u := range []struct {
		tok, name string
		typ       babysitter.UserType
	}{{alice, "alice", babysitter.UserParent}, {bob, "bob", babysitter.UserNanny}, {carol, "carol", babysitter.UserNanny}} {
		want[babysitter.User](t, e.do("POST", "/v1/users", u.tok, userBody(u.name, u.typ)), http.StatusCreated)
		e.verify(admin, u.tok, u.name)
	}
	job := want[babysitter.Job](t, e.do("POST", "/v1/jobs", alice, jobBody()), http.StatusCreated)
	bobApp := want[babysitter.Application](t, e.do("POST", "/v1/jobs/"+job.ID+"/applications", bob, nil), http.StatusCreated)
	carolApp := want[babysitter.Application](t, e.do("POST", "/v1/jobs/"+job.ID+"/applications", carol, nil), http.StatusCreated)

	e.queue.fail.Store(true) // and it stays down
	b := want[babysitter.Booking](t, e.do("POST", "/v1/jobs/"+job.ID+"/booking", alice, map[string]string{"applicationId": bobApp.ID}), http.StatusOK)
	if b.Job.Status != babysitter.JobClosed || b.Application.Status != babysitter.ApplicationAccepted || b.DeclinesQueued != 0 {
		t.Errorf("booking with the queue down: %+v; want the committed booking, 0 queued", b)
	}
	eventually(t, declineDeadline, func() error {
		return wantStatuses(t, e, alice, job.ID, map[string]babysitter.ApplicationStatus{
			bobApp.ID: babysitter.ApplicationAccepted, carolApp.ID: babysitter.ApplicationDeclined,
		})
	})
	if sent := e.snapshot().sent; sent != 0 {
		t.Errorf("%d messages sent with the queue down", sent)
	}
}

// TestPanicRecovery: a panicking handler yields a generic 500 problem and
// an error log line with the panic, and the server keeps serving.
func TestPanicRecovery(t *testing.T) {
	logs := &testlog.Buffer{}
	s := &Handler{log: slog.New(babysitter.NewLogHandler(slog.NewJSONHandler(logs, nil))), timeout: DefaultRequestTimeout} // as New wraps it
	h := s.middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom: secret state") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/users/alice", nil))
	r := response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	p := wantProblem(t, r, http.StatusInternalServerError, "internal")
	if strings.Contains(string(r.body), "secret") {
		t.Errorf("the response leaks the panic: %s", r.body)
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(logs.String()), &line); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	if line["level"] != "ERROR" || line["panic"] != "boom: secret state" || !strings.Contains(fmt.Sprint(line["stack"]), "TestPanicRecovery") || line["requestId"] != p.RequestID {
		t.Errorf("log line %v", line)
	}
}

// TestRequestLog checks the one log line per request: its fields, the
// route pattern rather than the path's values, and the caller's request ID.
func TestRequestLog(t *testing.T) {
	store, queue, source := memoryBackend.open(t)
	e := newTestEnv(t, store, queue, source)
	r := e.doWith("GET", "/v1/users/nobody", "", nil, http.Header{"X-Request-Id": {"req-123"}})
	wantProblem(t, r, http.StatusNotFound, "not_found")
	if got := r.header.Get("X-Request-Id"); got != "req-123" {
		t.Errorf("X-Request-Id %q", got)
	}
	r = e.doWith("GET", "/healthz", "", nil, http.Header{"X-Request-Id": {"bad id\twith spaces"}})
	if got := r.header.Get("X-Request-Id"); got == "" || strings.ContainsAny(got, " \t") {
		t.Errorf("a bad X-Request-Id came back as %q; want a new one", got)
	}

	var lines []map[string]any
	for l := range strings.Lines(e.logs.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("%d request log lines, want 2: %v", len(lines), lines)
	}
	l := lines[0]
	for k, v := range map[string]any{"method": "GET", "route": "GET /v1/users/{username}", "path": "/v1/users/nobody", "status": 404.0, "requestId": "req-123", "level": "INFO"} {
		if l[k] != v {
			t.Errorf("log %s = %v, want %v (line %v)", k, l[k], v, l)
		}
	}
	if _, ok := l["durationMs"].(float64); !ok || !strings.Contains(fmt.Sprint(l["err"]), "not found") {
		t.Errorf("log line lacks durationMs or err: %v", l)
	}
}

// TestReadiness: ready on a reachable store, not ready while draining.
func TestReadiness(t *testing.T) {
	store, queue, source := memoryBackend.open(t)
	e := newTestEnv(t, store, queue, source)
	want[map[string]string](t, e.do("GET", "/readyz", "", nil), http.StatusOK)
	e.handler.Drain()
	wantProblem(t, e.do("GET", "/readyz", "", nil), http.StatusServiceUnavailable, "unavailable")
	wantProblem(t, e.do("GET", "/healthz?ready=1", "", nil), http.StatusServiceUnavailable, "unavailable")
	want[map[string]string](t, e.do("GET", "/healthz", "", nil), http.StatusOK)

	// A store that cannot answer makes the server not ready.
	broken := newTestEnv(t, failingStore{store}, queue, source)
	wantProblem(t, broken.do("GET", "/readyz", "", nil), http.StatusServiceUnavailable, "unavailable")
}

// failingStore fails every read like an unreachable backend.
type failingStore struct{ babysitter.Store }

func (failingStore) GetUser(context.Context, string) (babysitter.User, error) {
	return babysitter.User{}, errors.New("dial tcp: connection refused")
}

// TestInternalErrorIsGeneric: an unexpected backend error is a 500 whose
// detail says nothing about it, while the log has the real error.
func TestInternalErrorIsGeneric(t *testing.T) {
	store, queue, source := memoryBackend.open(t)
	e := newTestEnv(t, failingStore{store}, queue, source)
	r := e.do("GET", "/v1/users/alice", "", nil)
	p := wantProblem(t, r, http.StatusInternalServerError, "internal")
	if strings.Contains(p.Detail, "connection refused") {
		t.Errorf("detail leaks the cause: %q", p.Detail)
	}
	if !strings.Contains(e.logs.String(), "connection refused") || !strings.Contains(e.logs.String(), `"level":"ERROR"`) {
		t.Errorf("the log lacks the cause at level ERROR:\n%s", e.logs.String())
	}
}
