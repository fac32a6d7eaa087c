package appsync

import (
	"encoding/json"
	"testing"

	"github.com/babysitter-go/babysitter"
)

func TestActor(t *testing.T) {
	tests := []struct {
		name     string
		identity string
		want     babysitter.Actor
	}{
		{"api key", `null`, babysitter.Actor{}},
		{"groups", `{"username":"alice","sub":"s","groups":["parent"],"claims":{}}`,
			babysitter.Actor{Username: "alice", Role: babysitter.RoleParent, Subject: "s"}},
		{"sub in the claims only", `{"username":"alice","groups":["parent"],"claims":{"sub":"s2"}}`,
			babysitter.Actor{Username: "alice", Role: babysitter.RoleParent, Subject: "s2"}},
		{"groups null, claims array", `{"username":"nina","groups":null,"claims":{"cognito:groups":["nanny"]}}`,
			babysitter.Actor{Username: "nina", Role: babysitter.RoleNanny}},
		{"claims only", `{"claims":{"cognito:username":"nina","cognito:groups":["nanny"]},"sourceIp":["1.2.3.4"]}`,
			babysitter.Actor{Username: "nina", Role: babysitter.RoleNanny}},
		{"access token claims", `{"claims":{"username":"root","cognito:groups":["admin"]}}`,
			babysitter.Actor{Username: "root", Role: babysitter.RoleAdmin}},
		{"flattened groups claim", `{"claims":{"cognito:username":"root","cognito:groups":"parent,admin"}}`,
			babysitter.Actor{Username: "root", Role: babysitter.RoleAdmin}},
		{"admin wins", `{"username":"root","groups":["nanny","admin","parent"]}`,
			babysitter.Actor{Username: "root", Role: babysitter.RoleAdmin}},
		{"parent over nanny", `{"username":"pat","groups":["nanny","parent"]}`,
			babysitter.Actor{Username: "pat", Role: babysitter.RoleParent}},
		{"no role group", `{"username":"mallory","groups":["guests"]}`,
			babysitter.Actor{Username: "mallory"}},
		{"no groups", `{"username":"newbie","groups":null,"claims":{}}`,
			babysitter.Actor{Username: "newbie"}},
		{"no username", `{"sub":"abc","claims":{"cognito:groups":["admin"]}}`, babysitter.Actor{}},
		{"IAM", `{"accountId":"123","userArn":"arn:aws:iam::123:user/x","username":"AIDA"}`, babysitter.Actor{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev Event
			if err := json.Unmarshal([]byte(`{"identity":`+tt.identity+`}`), &ev); err != nil {
				t.Fatal(err)
			}
			if got := ev.Identity.Actor(); got != tt.want {
				t.Fatalf("Actor() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	r := Request{Headers: map[string]string{"X-Amzn-RequestId": "abc"}}
	if r.RequestID() != "abc" {
		t.Fatal(r.RequestID())
	}
	if (Request{}).RequestID() != "" {
		t.Fatal("want empty")
	}
}

func TestToError(t *testing.T) {
	wrap := func(err error) error { return &babysitter.Error{Kind: err, Op: "Op", Msg: "detail"} }
	tests := []struct {
		err  error
		want string
	}{
		{wrap(babysitter.ErrNotFound), TypeNotFound},
		{wrap(babysitter.ErrForbidden), TypeForbidden},
		{wrap(babysitter.ErrUnauthenticated), TypeUnauthenticated},
		{wrap(babysitter.ErrConflict), TypeConflict},
		{&babysitter.AlreadyExistsError{Field: babysitter.FieldEmail, Value: "a@b.c"}, TypeAlreadyExists},
		{&babysitter.InvalidInputError{Fields: []babysitter.FieldError{{Field: "x", Message: "bad"}}}, TypeInvalidInput},
		{json.Unmarshal([]byte("{"), new(any)), TypeInternalError},
	}
	for _, tt := range tests {
		if got := ToError(tt.err, "rid"); got.Type != tt.want {
			t.Errorf("ToError(%v) = %s, want %s", tt.err, got.Type, tt.want)
		}
	}
	e := ToError(&babysitter.Error{Kind: babysitter.ErrConflict, Op: "BookNanny", Msg: "job x is CLOSED", Err: json.Unmarshal([]byte("{"), new(any))}, "")
	if e.Message != "conflict: job x is CLOSED" {
		t.Fatalf("message %q: want the kind and message, without the op or the cause", e.Message)
	}
	if ie := e.InvokeError(); ie.Type != TypeConflict || ie.Message != e.Message {
		t.Fatalf("InvokeError %+v", ie)
	}
}
