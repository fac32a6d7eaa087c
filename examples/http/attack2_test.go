package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/babysitter-go/babysitter"
	qmemory "github.com/babysitter-go/babysitter/queue/memory"
	smemory "github.com/babysitter-go/babysitter/store/memory"
	"github.com/babysitter-go/babysitter/telemetry/otelenv"
)

// TestAttack2_PublicRequestsBaggageReachesTheQueue (regression; a finding
// of the second review, fixed: instrument drops a public request's
// baggage). The API is a public
// endpoint for tracing (no -trust-trace-context), so a client's
// traceparent only becomes a link. But otelhttp still extracts the whole
// request context with the configured propagators — W3C baggage among
// them by default (OTEL_PROPAGATORS unset) — and the request's context
// keeps the client's baggage. The Service then injects that context into
// the decline message it sends (Options.Propagator), so the bytes of any
// client whose request sends one (a parent's booking or cancellation;
// here 4 KiB of them) travel into the SQS message attributes and on to
// the consumer: data the server did not choose crosses into its internal
// messaging.
func TestAttack2_PublicRequestsBaggageReachesTheQueue(t *testing.T) {
	exportSpansTo(t)
	t.Setenv("OTEL_PROPAGATORS", "") // the default: tracecontext,baggage
	ctx := t.Context()
	tel, err := otelenv.New(ctx, otelenv.Options{ServiceName: "attack2"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(t.Context()) })

	q := qmemory.New(qmemory.Options{})
	svc := babysitter.New(smemory.New(), q, babysitter.Options{
		VerifyWithoutDocument: true,
		TracerProvider:        tel.TracerProvider, Propagator: tel.Propagator,
	})
	admin := babysitter.Actor{Username: "root", Role: babysitter.RoleAdmin}
	parent := babysitter.Actor{Username: "pat", Role: babysitter.RoleParent, Subject: "s-pat"}
	nanny := babysitter.Actor{Username: "nia", Role: babysitter.RoleNanny, Subject: "s-nia"}
	for _, a := range []babysitter.Actor{parent, nanny} {
		typ := babysitter.UserParent
		if a.Role == babysitter.RoleNanny {
			typ = babysitter.UserNanny
		}
		if _, err := svc.CreateUser(ctx, a, babysitter.NewUser{Username: a.Username, Email: a.Username + "@example.com", Type: typ,
			Profile: babysitter.Profile{FirstName: "F", LastName: "L", DateOfBirth: babysitter.Date{Year: 1990, Month: time.April, Day: 1}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.UpdateUserStatus(ctx, admin, a.Username, babysitter.StatusChange{Status: babysitter.StatusVerified}); err != nil {
			t.Fatal(err)
		}
	}
	j, err := svc.CreateJob(ctx, parent, babysitter.JobDetails{
		JobType: babysitter.JobBabysitting, Description: "Two kids after school", NumberOfKids: 2,
		StartDate: babysitter.Date{Year: 2031, Month: time.May, Day: 1}, EndDate: babysitter.Date{Year: 2031, Month: time.May, Day: 1},
		StartTime: 8 * 60, EndTime: 18 * 60, Address: "1 Main St", City: "Berlin", Latitude: 52.52, Longitude: 13.405,
		Cost: babysitter.Money{Amount: 5000, Currency: "EUR"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ApplyToJob(ctx, nanny, j.ID, babysitter.NewApplication{}); err != nil {
		t.Fatal(err)
	}
	other := babysitter.Actor{Username: "nora", Role: babysitter.RoleNanny, Subject: "s-nora"}
	if _, err := svc.CreateUser(ctx, other, babysitter.NewUser{Username: "nora", Email: "nora@example.com", Type: babysitter.UserNanny,
		Profile: babysitter.Profile{FirstName: "F", LastName: "L", DateOfBirth: babysitter.Date{Year: 1990, Month: time.April, Day: 1}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.UpdateUserStatus(ctx, admin, "nora", babysitter.StatusChange{Status: babysitter.StatusVerified}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ApplyToJob(ctx, other, j.ID, babysitter.NewApplication{}); err != nil {
		t.Fatal(err)
	}
	apps, err := svc.ListApplicationsForJob(ctx, parent, j.ID, babysitter.PageRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var appID string
	for _, a := range apps.Applications.Items {
		if a.NannyUsername == "nia" {
			appID = a.ID
		}
	}

	// The booking arrives over HTTP through the server's own
	// instrumentation, as a public endpoint, with the client's baggage.
	h := instrument(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := svc.BookNanny(r.Context(), parent, j.ID, appID); err != nil {
			t.Errorf("BookNanny: %v", err)
		}
		w.WriteHeader(http.StatusOK)
	}), tel, false)
	injected := "attacker=" + strings.Repeat("A", 4096)
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/jobs/"+j.ID+"/booking", nil)
	req.Header.Set("baggage", injected)
	h.ServeHTTP(httptest.NewRecorder(), req)

	msgs, err := q.Receive(ctx, 10)
	if err != nil || len(msgs) == 0 {
		t.Fatalf("Receive: %d messages, %v; want the decline message", len(msgs), err)
	}
	for _, m := range msgs {
		for k, v := range m.Attributes {
			if strings.Contains(v, "attacker=") {
				t.Errorf("the decline message's attribute %q carries the client's baggage (%d bytes): a public endpoint must not forward a client's baggage into its queue", k, len(v))
			}
		}
	}
}

// TestAttack2_ServerSpanCarriesTheUsernameInThePath (regression; a
// finding of the second review, fixed: instrument's spans start without
// url.path, the client's address and user agent). DESIGN.md promises
// spans with IDs and no personal data — no username. otelhttp's server
// span records the request's path (url.path), and the API's paths name
// users: GET /v1/users/{username}, …/uploads, …/documents/{uploadId},
// /v1/nannies/{username}/applications. Every such request exports the
// username to the tracing backend; the client's address and user agent
// go with it.
func TestAttack2_ServerSpanCarriesTheUsernameInThePath(t *testing.T) {
	recv := exportSpansTo(t)
	tel, err := otelenv.New(t.Context(), otelenv.Options{ServiceName: "attack2"})
	if err != nil {
		t.Fatal(err)
	}
	h := instrument(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }), tel, false)
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/v1/users/alice.smith", nil)
	h.ServeHTTP(httptest.NewRecorder(), req)
	if err := tel.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	spans := recv.Spans()
	if len(spans) == 0 {
		t.Fatal("no span")
	}
	for _, s := range spans {
		for k, v := range s.Attributes {
			if str, ok := v.(string); ok && strings.Contains(str, "alice.smith") {
				t.Errorf("span %q attribute %s = %q names the user", s.Name, k, str)
			}
		}
	}
}
