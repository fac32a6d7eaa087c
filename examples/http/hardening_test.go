package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/babysitter-go/babysitter"
)

// The attacks of issue 13 over HTTP, each one refused. (The built-in key
// in production is TestDevKeyRefused; the key set's slow endpoint
// TestJWKSSlowEndpoint.)

// TestForgedTokenDatesOverHTTP: tokens signed with the right key but
// issued a year ahead, living a century, or with a date written as a
// string, are 401 on every route.
func TestForgedTokenDatesOverHTTP(t *testing.T) {
	store, queue, source := memoryBackend.open(t)
	e := newTestEnv(t, store, queue, source)
	now := time.Now()
	signed := func(c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(testKey))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	claims := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": devIssuer, "sub": "mallory", "cognito:username": "mallory", "cognito:groups": []string{"admin"},
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	}
	for name, tok := range map[string]string{
		"iat a year ahead":  signed(with(claims(), "iat", now.AddDate(1, 0, 0).Unix())),
		"exp 100 years out": signed(with(claims(), "exp", now.AddDate(100, 0, 0).Unix())),
		"exp as a string":   signed(with(claims(), "exp", strconv.FormatInt(now.Add(time.Hour).Unix(), 10))),
	} {
		for _, path := range []string{"/v1/users?type=NANNY", "/v1/users/mallory"} {
			before := e.snapshot()
			p := wantProblem(t, e.do("GET", path, tok, nil), http.StatusUnauthorized, "unauthenticated")
			if !strings.Contains(p.Detail, "invalid token") {
				t.Errorf("%s on %s: detail %q", name, path, p.Detail)
			}
			e.noWrites(before, false, name)
		}
	}
	// The same claims with sane dates get in.
	want[babysitter.Page[babysitter.User]](t, e.do("GET", "/v1/users?type=NANNY", signed(claims()), nil), http.StatusOK)
}

// TestIdentityDependentResponsesAreNotCached: every API response — with or
// without a token, success or error — says Cache-Control: private,
// no-store, and the routes that answer differently with and without a
// token say Vary: Authorization, so no shared cache hands a user's private
// fields to someone else.
func TestIdentityDependentResponsesAreNotCached(t *testing.T) {
	store, queue, source := memoryBackend.open(t)
	e := newTestEnv(t, store, queue, source)
	bob := token(t, "bob", "nanny")
	want[babysitter.User](t, e.do("POST", "/v1/users", bob, userBody("bob", babysitter.UserNanny)), http.StatusCreated)

	private := e.do("GET", "/v1/users/bob", bob, nil)
	public := e.do("GET", "/v1/users/bob", "", nil)
	if u := want[babysitter.User](t, private, http.StatusOK); u.Email != "bob@example.com" {
		t.Fatalf("bob's own profile lacks his email: %+v", u)
	}
	if u := want[babysitter.User](t, public, http.StatusOK); u.Email != "" {
		t.Fatalf("the public profile shows the email: %+v", u)
	}
	for name, r := range map[string]response{"with a token": private, "without": public} {
		if cc := r.header.Get("Cache-Control"); cc != "private, no-store" {
			t.Errorf("GET /v1/users/bob %s: Cache-Control %q", name, cc)
		}
		if v := r.header.Values("Vary"); !containsFold(v, "Authorization") {
			t.Errorf("GET /v1/users/bob %s: Vary %q", name, v)
		}
	}

	// Every route, with bob's token and without one: whatever the answer.
	s := &server{}
	for _, rt := range s.apiRoutes() {
		method, path, _ := strings.Cut(rt.pattern, " ")
		path = strings.NewReplacer("{username}", "bob", "{jobId}", "01931e2c-0000-7000-8000-000000000000",
			"{applicationId}", "01931e2c-0000-7000-8000-000000000001").Replace(path)
		for _, tok := range []string{bob, ""} {
			r := e.do(method, path, tok, nil)
			if cc := r.header.Get("Cache-Control"); cc != "private, no-store" {
				t.Errorf("%s %s (token %v): status %d, Cache-Control %q", method, path, tok != "", r.status, cc)
			}
			if v := r.header.Values("Vary"); !rt.required && !containsFold(v, "Authorization") {
				t.Errorf("%s %s: Vary %q on a route with an optional token", method, path, v)
			}
		}
	}
}

func containsFold(values []string, want string) bool {
	for _, v := range values {
		for f := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), want) {
				return true
			}
		}
	}
	return false
}

// TestNearQueryNearThePoles: a 50 km query at latitude 89 would read
// thousands of index cells; it is refused with the radius that fits, which
// is then served. At the pole itself nothing fits.
func TestNearQueryNearThePoles(t *testing.T) {
	store, queue, source := memoryBackend.open(t)
	e := newTestEnv(t, store, queue, source)
	bob := token(t, "bob", "nanny")
	want[babysitter.User](t, e.do("POST", "/v1/users", bob, userBody("bob", babysitter.UserNanny)), http.StatusCreated)

	p := wantProblem(t, e.do("GET", "/v1/jobs?near=89,13.4&radiusKm=50", bob, nil), http.StatusBadRequest, "invalid_input")
	if len(p.Errors) != 1 || p.Errors[0].Field != "radiusKm" || !strings.Contains(p.Errors[0].Message, "at most 7.4 km") {
		t.Fatalf("errors %+v; want radiusKm at most 7.4 km", p.Errors)
	}
	want[babysitter.Page[babysitter.NearbyJob]](t, e.do("GET", "/v1/jobs?near=89,13.4&radiusKm=7.4", bob, nil), http.StatusOK)
	for _, near := range []string{"90,0", "-90,180"} {
		p := wantProblem(t, e.do("GET", "/v1/jobs?near="+near+"&radiusKm=1", bob, nil), http.StatusBadRequest, "invalid_input")
		if len(p.Errors) != 1 || p.Errors[0].Field != "latitude" {
			t.Errorf("near=%s: errors %+v; want latitude", near, p.Errors)
		}
	}
	// Across the antimeridian the full radius is served.
	want[babysitter.Page[babysitter.NearbyJob]](t, e.do("GET", "/v1/jobs?near=-17.7,180&radiusKm=50", bob, nil), http.StatusOK)
}
