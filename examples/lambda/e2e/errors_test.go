package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/babysitter-go/babysitter/examples/lambda/e2e/internal/local"
	"github.com/babysitter-go/babysitter/transport/appsync"
)

// A refused operation comes back as a GraphQL error whose errorType is the
// library's error kind, set by the resolver under the emulator and carried
// through the simulator's response mapping template; the field is null.
func TestErrorsAsGraphQLErrors(t *testing.T) {
	s := setup(t)
	s.logsOnFailure(t)
	pat := user("e.pat", "parent")
	in := newUser("e.pat@example.com", "Pat", "Errors")
	s.must(t, pat, "createUser", createUserQ, obj{"in": in})

	cases := []struct {
		name, field, errorType string
		c                      caller
		query                  string
		vars                   obj
		inMessage              string
	}{
		{"unknown job", "getJob", "NotFound", pat,
			`query($jobId: String!) { getJob(jobId: $jobId) { id } }`, obj{"jobId": "0190a000-0000-7000-8000-000000000000"}, "not found"},
		{"unknown user, API key", "getUser", "NotFound", apiKey(), getUserQ, obj{"u": "nobody"}, "not found"},
		{"job ends before it starts", "createJob", "InvalidInput", pat, createJobQ,
			obj{"in": merge(jobInput(), obj{"startTime": "18:00", "endTime": "17:00"})}, "endTime"},
		{"not a time", "createJob", "InvalidInput", pat, createJobQ,
			obj{"in": merge(jobInput(), obj{"startTime": "25:99"})}, "startTime"},
		{"the account exists", "createUser", "AlreadyExists", pat, createUserQ, obj{"in": in}, ""},
		{"the email is taken", "createUser", "AlreadyExists", user("e.other", "parent"), createUserQ, obj{"in": in}, "email"},
	}
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			msg := s.wantError(t, tc.c, tc.field, tc.errorType, tc.query, tc.vars)
			if !strings.Contains(msg, tc.inMessage) {
				t.Fatalf("message %q does not mention %q", msg, tc.inMessage)
			}
		})
	}

	// Conflict: a cancelled job cannot be cancelled again.
	s.verify(t, user("e.root", "admin"), pat)
	job := str(s.must(t, pat, "createJob", createJobQ, obj{"in": jobInput()})["id"])
	cancel := `mutation($jobId: String!) { cancelJob(jobId: $jobId) { id jobStatus } }`
	if c := s.must(t, pat, "cancelJob", cancel, obj{"jobId": job}); c["jobStatus"] != "CANCELLED" {
		t.Fatalf("cancelJob: %v", c)
	}
	s.wantError(t, pat, "cancelJob", "Conflict", cancel, obj{"jobId": job})

	// The shape of one error response, as the simulator sends it.
	r := s.gql(t, pat, `query($jobId: String!) { getJob(jobId: $jobId) { id } }`, obj{"jobId": "0190a000-0000-7000-8000-000000000000"})
	t.Logf("a NotFound as the simulator returns it: %s", r.Raw)
	r = s.gql(t, pat, createUserQ, obj{"in": in})
	t.Logf("an error on a non-null field: %s", r.Raw)

	// Without any credentials the simulator answers 401 itself.
	r, err := s.client.Do(context.Background(), "not-a-jwt", getUserQ, obj{"u": "e.pat"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != 401 || r.ErrorType() != "UnauthorizedException" {
		t.Fatalf("a request with a malformed token: HTTP %d %s", r.Status, r.Raw)
	}
}

func merge(a, b obj) obj {
	for k, v := range b {
		a[k] = v
	}
	return a
}

// A function that panics, exits or times out is a failure, never data:
// the RIE harness reports ErrCrashed or ErrTimedOut, and through the
// simulator the field is null with a GraphQL error of errorType
// Lambda:Unhandled (what AppSync reports for an unhandled function error).
// testdata/crasher stands in for the resolver, under its own emulator and
// its own simulator; it also echoes the event the simulator's mapping
// templates send, which must be AppSync's direct-resolver event.
func TestFunctionFailures(t *testing.T) {
	s := setup(t)
	ctx := context.Background()
	crasher, err := local.StartFunction(ctx, s.tools.RIE, local.FunctionConfig{
		Name: "crasher", Bootstrap: bootstraps["crasher"], Timeout: time.Second, LogLevel: "info",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(crasher.Stop)
	gateway, err := crasher.Gateway()
	if err != nil {
		t.Fatal(err)
	}
	sim, err := s.tools.StartSimulator(ctx, local.SimulatorConfig{Schema: filepath.Join(s.tools.Root, local.Schema), LambdaURL: gateway})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Stop)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("crasher output:\n%s", tail(crasher.Output(), 40))
			t.Logf("simulator output:\n%s", tail(sim.Output(), 20))
		}
	})
	client := &local.GraphQL{URL: sim.URL, APIKey: sim.APIKey}
	alice := user("alice", "parent")

	direct := func(mode string) (json.RawMessage, error) {
		ev, _ := json.Marshal(appsyncEvent(alice, "Query", "getUser", obj{"username": mode}))
		return crasher.Invoke(ctx, ev)
	}
	for _, c := range []struct {
		mode string
		want error
	}{{"panic", local.ErrCrashed}, {"exit", local.ErrCrashed}, {"sleep", local.ErrTimedOut}} {
		t.Run("direct/"+c.mode, func(t *testing.T) {
			res, err := direct(c.mode)
			var f *local.InvokeFailure
			if !errors.Is(err, c.want) || !errors.As(err, &f) || res != nil {
				t.Fatalf("want %v and no data, got %s, %v", c.want, res, err)
			}
			t.Logf("%s: %v", c.mode, f)
			// The emulator starts a fresh bootstrap for the next one.
			if res, err := direct("echo"); err != nil || !strings.Contains(string(res), `"about"`) {
				t.Fatalf("echo after %s: %s, %v", c.mode, res, err)
			}
		})
		t.Run("graphql/"+c.mode, func(t *testing.T) {
			r, err := client.Do(ctx, alice.token, `query($u: String!) { getUser(username: $u) { username } }`, obj{"u": c.mode})
			if err != nil {
				t.Fatal(err)
			}
			if string(r.Data["getUser"]) != "null" || r.ErrorType() != "Lambda:Unhandled" {
				t.Fatalf("want getUser null with a Lambda:Unhandled error, got %s", r.Raw)
			}
			t.Logf("%s: %s", c.mode, r.Errors[0].Message)
		})
	}

	// The event the simulator's mapping templates send.
	r, err := client.Do(ctx, alice.token, `query Echo($u: String!) { getUser(username: $u) { username about rating { count } } }`, obj{"u": "echo"})
	if err != nil {
		t.Fatal(err)
	}
	var data struct {
		About string `json:"about"`
	}
	if len(r.Errors) > 0 || json.Unmarshal(r.Data["getUser"], &data) != nil {
		t.Fatalf("echo: %s", r.Raw)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(data.About), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"arguments", "identity", "source", "request", "info", "prev", "stash"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("the event has no %q: %s", k, data.About)
		}
	}
	var ev appsync.Event
	if err := json.Unmarshal([]byte(data.About), &ev); err != nil {
		t.Fatalf("the event does not decode as appsync.Event: %v\n%s", err, data.About)
	}
	if a := ev.Identity.Actor(); a.Username != "alice" || a.Role != "parent" {
		t.Errorf("actor %+v from identity %+v", a, ev.Identity)
	}
	if len(ev.Identity.Groups) != 0 {
		t.Errorf("the simulator now sends identity.groups %v: the claims-only path is no longer exercised", ev.Identity.Groups)
	}
	if ev.Info.ParentTypeName != "Query" || ev.Info.FieldName != "getUser" || ev.Info.Variables["u"] != "echo" ||
		strings.Join(ev.Info.SelectionSetList, ",") != "username,about,rating,rating/count" {
		t.Errorf("info: %+v", ev.Info)
	}
	if string(ev.Arguments) != `{"username":"echo"}` || string(ev.Source) != "null" || string(ev.Prev) != "null" || string(ev.Stash) != "{}" {
		t.Errorf("arguments %s, source %s, prev %s, stash %s", ev.Arguments, ev.Source, ev.Prev, ev.Stash)
	}
	if ev.Request.Headers["authorization"] != alice.token {
		t.Errorf("request headers: %v", ev.Request.Headers)
	}
	t.Logf("the event through the simulator: %s", data.About)
}
