package appsync

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/babysitter-go/babysitter"
	qmemory "github.com/babysitter-go/babysitter/queue/memory"
	smemory "github.com/babysitter-go/babysitter/store/memory"
)

// Attacks on the AppSync transport, from the security review (branch
// review-attack). TestAttack_IdentityFromAnotherIssuer failed when
// written (a finding, low: latent with the SAM template's auth modes);
// TestAttack_EmailProbeUnlimitedOverGraphQL failed too (low); and
// TestAttack_BatchMixingIdentities is a regression test.

// TestAttack_IdentityFromAnotherIssuer: Actor reads the username from
// identity.username or, failing that, from the token's claims
// ("cognito:username", "username"), and the groups from identity.groups
// or the "cognito:groups" claim — lower-cased, trimmed, and split when it
// is a string — without looking at identity.issuer. An API that adds an
// OPENID_CONNECT or AWS_LAMBDA provider beside Cognito (a one-line change
// of the template) passes that provider's identities here: whoever
// controls a token of that issuer names any username and, with a claim
// "cognito:groups": "admin" (or "ADMIN", or "nanny admin"), becomes an
// admin. The sub is not bound either (see jwtauth's
// TestAttack_RecycledUsernameInheritsAccount).
//
// Secure behaviour: an identity whose issuer is not the configured
// Cognito user pool is anonymous; group names match exactly, as jwtauth's
// RoleFromGroups does.
func TestAttack_IdentityFromAnotherIssuer(t *testing.T) {
	for name, identity := range map[string]string{
		"OIDC identity, access-token claims": `{"sub":"attacker","issuer":"https://idp.attacker.example","claims":{"username":"root","cognito:groups":["admin"]}}`,
		"OIDC identity, flattened groups":    `{"sub":"attacker","issuer":"https://idp.attacker.example","claims":{"cognito:username":"root","cognito:groups":"nanny ADMIN"}}`,
	} {
		var ev Event
		if err := json.Unmarshal([]byte(`{"identity":`+identity+`}`), &ev); err != nil {
			t.Fatal(err)
		}
		if got := ev.Identity.Actor(); got != (babysitter.Actor{}) {
			t.Errorf("%s: Actor() = %+v, want anonymous (the issuer is not the user pool)", name, got)
		}
	}
	// Cognito group names are case-sensitive; "Admin" is not "admin".
	var ev Event
	if err := json.Unmarshal([]byte(`{"identity":{"username":"eve","groups":["Admin"]}}`), &ev); err != nil {
		t.Fatal(err)
	}
	if got := ev.Identity.Actor(); got.Role == babysitter.RoleAdmin {
		t.Errorf("a member of the group \"Admin\" is %+v; jwtauth gives that group no role", got)
	}
}

// TestAttack_BatchMixingIdentities (regression): AppSync batches the
// invocations of several callers into one Lambda event. An anonymous (API
// key) item beside an admin's must not borrow the admin's identity: each
// item is resolved with its own, so the anonymous deactivation is
// Unauthenticated and the admin's verification goes through.
func TestAttack_BatchMixingIdentities(t *testing.T) {
	ctx := context.Background()
	svc := babysitter.New(smemory.New(), qmemory.New(qmemory.Options{}), babysitter.Options{Logger: slog.New(slog.DiscardHandler), VerifyWithoutDocument: true})
	bob := babysitter.Actor{Username: "bob", Role: babysitter.RoleNanny}
	if _, err := svc.CreateUser(ctx, bob, babysitter.NewUser{Username: "bob", Email: "bob@example.com", Type: babysitter.UserNanny,
		Profile: babysitter.Profile{FirstName: "Bob", LastName: "B", DateOfBirth: babysitter.Date{Year: 1990, Month: time.May, Day: 1}}}); err != nil {
		t.Fatal(err)
	}
	r := NewRouter(svc, Options{Logger: slog.New(slog.DiscardHandler)})
	item := func(identity, status string) json.RawMessage {
		return json.RawMessage(`{"arguments":{"username":"bob","status":"` + status + `"},"identity":` + identity +
			`,"info":{"parentTypeName":"Mutation","fieldName":"updateUserStatus"},"request":{"headers":{}}}`)
	}
	batch, err := json.Marshal([]json.RawMessage{
		item(`{"username":"root","groups":["admin"]}`, "VERIFIED"),
		item(`null`, "DEACTIVATED"),
		item(`{"username":"bob","groups":["nanny"]}`, "DEACTIVATED"),
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.Handle(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	items := out.([]BatchItem)
	if len(items) != 3 || items[0].ErrorType != "" || items[1].ErrorType != TypeUnauthenticated || items[2].ErrorType != TypeForbidden {
		t.Fatalf("batch answers %+v; want ok, Unauthenticated, Forbidden", items)
	}
	u, err := svc.GetUser(ctx, babysitter.Actor{}, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if u.Status != babysitter.StatusVerified {
		t.Errorf("bob is %s after the batch, want VERIFIED (only the admin's item may change him)", u.Status)
	}
}

// TestAttack_EmailProbeUnlimitedOverGraphQL: updateUser with someone
// else's email answers AlreadyExists, which tells that the address has an
// account. The HTTP API treats that as a threat and limits each caller's
// writes (httpapi.DefaultWritesPerMinute: "far below what a script probing
// for taken email addresses would need"); the AppSync Router, the
// production transport of the SAM template, has no such limit, so one
// account probes as many addresses as it likes.
//
// Secure behaviour: the same per-caller write limit as the HTTP API (an
// Options field of the Router, or a documented WAF rule per user), so
// that a burst of probes is refused after DefaultWriteBurst writes.
func TestAttack_EmailProbeUnlimitedOverGraphQL(t *testing.T) {
	ctx := context.Background()
	svc := babysitter.New(smemory.New(), qmemory.New(qmemory.Options{}), babysitter.Options{Logger: slog.New(slog.DiscardHandler)})
	for _, a := range []babysitter.Actor{{Username: "victim", Role: babysitter.RoleParent}, {Username: "prober", Role: babysitter.RoleNanny}} {
		typ := babysitter.UserParent
		if a.Role == babysitter.RoleNanny {
			typ = babysitter.UserNanny
		}
		if _, err := svc.CreateUser(ctx, a, babysitter.NewUser{Username: a.Username, Email: a.Username + "@example.com", Type: typ,
			Profile: babysitter.Profile{FirstName: "A", LastName: "B", DateOfBirth: babysitter.Date{Year: 1990, Month: time.May, Day: 1}}}); err != nil {
			t.Fatal(err)
		}
	}
	// The resolver Lambda's router (examples/lambda/resolver) has the limit.
	r := NewRouter(svc, Options{Logger: slog.New(slog.DiscardHandler), WritesPerMinute: DefaultWritesPerMinute, WriteBurst: DefaultWriteBurst})
	const probes = 60 // twice the HTTP API's writes per minute, three times its burst
	answered := 0
	for range probes {
		_, e := r.Resolve(ctx, &Event{
			Arguments: json.RawMessage(`{"user":{"username":"prober","email":"victim@example.com"}}`),
			Identity:  &Identity{Username: "prober", Groups: []string{"nanny"}},
			Info:      Info{ParentTypeName: "Mutation", FieldName: "updateUser"},
		})
		if e != nil && e.Type == TypeAlreadyExists {
			answered++
		}
	}
	if answered == probes {
		t.Errorf("%d of %d email probes in a row answered AlreadyExists (an existence oracle without a limit)", answered, probes)
	}
}
