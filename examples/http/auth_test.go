package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/babysitter-go/babysitter"
)

func TestRoleFromGroups(t *testing.T) {
	for _, c := range []struct {
		groups []string
		want   babysitter.Role
	}{
		{nil, ""},
		{[]string{"nanny"}, babysitter.RoleNanny},
		{[]string{"parent"}, babysitter.RoleParent},
		{[]string{"nanny", "admin"}, babysitter.RoleAdmin},
		{[]string{"parent", "nanny"}, babysitter.RoleParent},
		{[]string{"Admin", "staff"}, ""},
	} {
		if got := roleFromGroups(c.groups); got != c.want {
			t.Errorf("roleFromGroups(%q) = %q, want %q", c.groups, got, c.want)
		}
	}
}

func TestHS256(t *testing.T) {
	a := newHS256Auth(testKey)
	ctx := context.Background()
	now := time.Now()
	sign := func(c jwt.Claims, m jwt.SigningMethod, key any) string {
		t.Helper()
		s, err := jwt.NewWithClaims(m, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	valid := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": devIssuer, "sub": "alice", "exp": now.Add(time.Hour).Unix(), "cognito:groups": []string{"parent"}}
	}

	tok, err := mintDevToken(testKey, "alice", []string{"nanny", "admin"}, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := a.authenticate(ctx, tok); err != nil || got != (babysitter.Actor{Username: "alice", Role: babysitter.RoleAdmin}) {
		t.Fatalf("minted token: %+v, %v", got, err)
	}
	// sub is the username when cognito:username is absent.
	if got, err := a.authenticate(ctx, sign(valid(), jwt.SigningMethodHS256, []byte(testKey))); err != nil || got.Username != "alice" || got.Role != babysitter.RoleParent {
		t.Fatalf("sub-only token: %+v, %v", got, err)
	}

	rsaKey := testRSAKey(t)
	bad := map[string]string{
		"garbage":       "not.a.token",
		"other key":     sign(valid(), jwt.SigningMethodHS256, []byte("another-key-0123456789abcdefghij")),
		"HS512":         sign(valid(), jwt.SigningMethodHS512, []byte(testKey)),
		"RS256":         sign(valid(), jwt.SigningMethodRS256, rsaKey),
		"alg none":      sign(valid(), jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType),
		"no exp":        sign(func() jwt.MapClaims { c := valid(); delete(c, "exp"); return c }(), jwt.SigningMethodHS256, []byte(testKey)),
		"expired":       sign(func() jwt.MapClaims { c := valid(); c["exp"] = now.Add(-time.Hour).Unix(); return c }(), jwt.SigningMethodHS256, []byte(testKey)),
		"not yet valid": sign(func() jwt.MapClaims { c := valid(); c["nbf"] = now.Add(time.Hour).Unix(); return c }(), jwt.SigningMethodHS256, []byte(testKey)),
		"wrong issuer":  sign(func() jwt.MapClaims { c := valid(); c["iss"] = "someone-else"; return c }(), jwt.SigningMethodHS256, []byte(testKey)),
		"bad username":  sign(func() jwt.MapClaims { c := valid(); c["sub"] = "Alice#1"; return c }(), jwt.SigningMethodHS256, []byte(testKey)),
		"no username":   sign(func() jwt.MapClaims { c := valid(); delete(c, "sub"); return c }(), jwt.SigningMethodHS256, []byte(testKey)),
	}
	for name, tok := range bad {
		if got, err := a.authenticate(ctx, tok); !errors.Is(err, babysitter.ErrUnauthenticated) {
			t.Errorf("%s: %+v, %v; want ErrUnauthenticated", name, got, err)
		}
	}
}

func TestMintDevTokenRefusesBadInput(t *testing.T) {
	for name, f := range map[string]func() (string, error){
		"bad user":  func() (string, error) { return mintDevToken(testKey, "A", []string{"parent"}, time.Hour, time.Now()) },
		"bad group": func() (string, error) { return mintDevToken(testKey, "alice", []string{"root"}, time.Hour, time.Now()) },
		"no ttl":    func() (string, error) { return mintDevToken(testKey, "alice", []string{"parent"}, 0, time.Now()) },
	} {
		if _, err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestBearerToken(t *testing.T) {
	for h, want := range map[string]string{"Bearer abc": "abc", "bearer  abc ": "abc", "BEARER abc": "abc"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", h)
		if got, ok, err := bearerToken(r); got != want || !ok || err != nil {
			t.Errorf("%q: %q, %v, %v", h, got, ok, err)
		}
	}
	for _, h := range []string{"Bearer", "Bearer ", "Basic abc", "abc"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", h)
		if _, ok, err := bearerToken(r); !ok || !errors.Is(err, babysitter.ErrUnauthenticated) {
			t.Errorf("%q: %v, %v", h, ok, err)
		}
	}
	if _, ok, err := bearerToken(httptest.NewRequest("GET", "/", nil)); ok || err != nil {
		t.Errorf("no header: %v, %v", ok, err)
	}
}

// rsaKeys are generated once: 2048-bit generation is slow under -race.
var rsaKeys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var keys [2]*rsa.PrivateKey
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

func testRSAKey(t testing.TB) *rsa.PrivateKey { t.Helper(); return rsaKeys()[0] }

const (
	testPoolID   = "eu-west-1_TestPool"
	testClientID = "test-client-id"
)

// cognitoFixture is a fake Cognito user pool: an issuer URL serving a
// JWKS, and RS256 keys to sign tokens with.
type cognitoFixture struct {
	srv    *httptest.Server
	issuer string
	// published is the JWKS the server serves; fail makes it answer 500.
	published atomic.Value // []byte
	fail      atomic.Bool
	hits      atomic.Int32
}

func newCognitoFixture(t *testing.T) *cognitoFixture {
	f := &cognitoFixture{}
	f.publish(t, map[string]*rsa.PrivateKey{"key-1": rsaKeys()[0]})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /"+testPoolID+"/.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		if f.fail.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(f.published.Load().([]byte))
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.issuer = f.srv.URL + "/" + testPoolID
	return f
}

// publish replaces the served key set, plus a non-RSA key that must be
// skipped.
func (f *cognitoFixture) publish(t *testing.T, keys map[string]*rsa.PrivateKey) {
	t.Helper()
	set := []map[string]string{{"kty": "EC", "kid": "ec-key", "crv": "P-256", "x": "AA", "y": "AA"}}
	for kid, k := range keys {
		set = append(set, map[string]string{
			"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
			"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes()),
		})
	}
	b, err := json.Marshal(map[string]any{"keys": set})
	if err != nil {
		t.Fatal(err)
	}
	f.published.Store(b)
}

func (f *cognitoFixture) auth() *cognitoAuth {
	return newCognitoAuthAt(f.issuer, f.issuer+"/.well-known/jwks.json", testClientID, f.srv.Client())
}

// idClaims and accessClaims are what Cognito puts in its tokens.
func (f *cognitoFixture) idClaims(username string, groups ...string) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": f.issuer, "sub": "8f3c0a52-0000-4000-8000-000000000001", "aud": testClientID, "token_use": "id",
		"cognito:username": username, "cognito:groups": groups, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(),
	}
}

func (f *cognitoFixture) accessClaims(username string, groups ...string) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": f.issuer, "sub": "8f3c0a52-0000-4000-8000-000000000001", "client_id": testClientID, "token_use": "access",
		"username": username, "cognito:groups": groups, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(),
	}
}

// sign signs c with key under kid.
func sign(t testing.TB, c jwt.Claims, kid string, key *rsa.PrivateKey) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCognitoURLs(t *testing.T) {
	a := newCognitoAuth("eu-west-1", testPoolID, testClientID, nil)
	if want := "https://cognito-idp.eu-west-1.amazonaws.com/" + testPoolID; a.issuer != want {
		t.Errorf("issuer %q, want %q", a.issuer, want)
	}
	if want := "https://cognito-idp.eu-west-1.amazonaws.com/" + testPoolID + "/.well-known/jwks.json"; a.keys.url != want {
		t.Errorf("JWKS URL %q, want %q", a.keys.url, want)
	}
}

func TestCognito(t *testing.T) {
	f := newCognitoFixture(t)
	a := f.auth()
	ctx := context.Background()
	key := rsaKeys()[0]

	good := map[string]struct {
		tok  string
		want babysitter.Actor
	}{
		"id token":     {sign(t, f.idClaims("alice", "parent"), "key-1", key), babysitter.Actor{Username: "alice", Role: babysitter.RoleParent}},
		"access token": {sign(t, f.accessClaims("bob", "nanny"), "key-1", key), babysitter.Actor{Username: "bob", Role: babysitter.RoleNanny}},
		"no groups":    {sign(t, f.idClaims("carol"), "key-1", key), babysitter.Actor{Username: "carol"}},
	}
	for name, c := range good {
		if got, err := a.authenticate(ctx, c.tok); err != nil || got != c.want {
			t.Errorf("%s: %+v, %v; want %+v", name, got, err, c.want)
		}
	}
	if n := f.hits.Load(); n != 1 {
		t.Errorf("the JWKS was fetched %d times, want once (cached)", n)
	}

	with := func(c jwt.MapClaims, k string, v any) jwt.MapClaims {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	hs, _ := mintDevToken(testKey, "alice", []string{"admin"}, time.Hour, time.Now())
	bad := map[string]string{
		"HS256 dev token":        hs,
		"wrong key":              sign(t, f.idClaims("alice", "admin"), "key-1", rsaKeys()[1]),
		"unknown kid":            sign(t, f.idClaims("alice", "admin"), "key-9", key),
		"no kid":                 sign(t, f.idClaims("alice", "admin"), "", key),
		"other issuer":           sign(t, with(f.idClaims("alice"), "iss", "https://cognito-idp.eu-west-1.amazonaws.com/other"), "key-1", key),
		"id token, other aud":    sign(t, with(f.idClaims("alice"), "aud", "other-client"), "key-1", key),
		"access, other client":   sign(t, with(f.accessClaims("alice"), "client_id", "other-client"), "key-1", key),
		"access token as id":     sign(t, with(f.accessClaims("alice"), "token_use", "id"), "key-1", key),
		"no token_use":           sign(t, with(f.idClaims("alice"), "token_use", nil), "key-1", key),
		"refresh token_use":      sign(t, with(f.idClaims("alice"), "token_use", "refresh"), "key-1", key),
		"expired":                sign(t, with(f.idClaims("alice"), "exp", time.Now().Add(-time.Hour).Unix()), "key-1", key),
		"no exp":                 sign(t, with(f.idClaims("alice"), "exp", nil), "key-1", key),
		"uppercase username":     sign(t, f.idClaims("Alice"), "key-1", key),
		"access token w/o name":  sign(t, with(f.accessClaims("alice"), "username", nil), "key-1", key),
		"id token, only sub set": sign(t, with(f.idClaims("alice"), "cognito:username", nil), "key-1", key),
	}
	for name, tok := range bad {
		if got, err := a.authenticate(ctx, tok); !errors.Is(err, babysitter.ErrUnauthenticated) {
			t.Errorf("%s: %+v, %v; want ErrUnauthenticated", name, got, err)
		}
	}
}

func TestJWKSRotationAndOutage(t *testing.T) {
	f := newCognitoFixture(t)
	a := f.auth()
	now := time.Unix(1_800_000_000, 0)
	a.keys.now = func() time.Time { return now }
	ctx := context.Background()
	k1, k2 := rsaKeys()[0], rsaKeys()[1]
	ok := func(tok string) {
		t.Helper()
		if _, err := a.authenticate(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	ok(sign(t, f.idClaims("alice"), "key-1", k1))

	// The pool rotates to key-2. A token signed with it is unknown to the
	// cache; within the minimum refresh interval it is refused without a
	// fetch, after it the set is fetched again and the token accepted.
	f.publish(t, map[string]*rsa.PrivateKey{"key-1": k1, "key-2": k2})
	tok2 := sign(t, f.idClaims("alice"), "key-2", k2)
	if _, err := a.authenticate(ctx, tok2); !errors.Is(err, babysitter.ErrUnauthenticated) {
		t.Fatalf("new kid right after a fetch: %v; want a refusal without refetch", err)
	}
	if n := f.hits.Load(); n != 1 {
		t.Fatalf("%d fetches, want 1", n)
	}
	now = now.Add(jwksMinRefresh)
	ok(tok2)
	if n := f.hits.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}

	// The key endpoint goes down: known keys keep working past their age,
	now = now.Add(jwksMaxAge + time.Second)
	f.fail.Store(true)
	ok(sign(t, f.idClaims("alice"), "key-1", k1))
	// but a fresh verifier with nothing cached answers keys-unavailable,
	// which is the server's problem, not the token's.
	fresh := f.auth()
	_, err := fresh.authenticate(ctx, tok2)
	if !errors.Is(err, errKeysUnavailable) || errors.Is(err, babysitter.ErrUnauthenticated) {
		t.Fatalf("no keys: %v; want errKeysUnavailable", err)
	}
	if p := problemFor(err); p.Status != http.StatusServiceUnavailable {
		t.Errorf("no keys: status %d, want 503", p.Status)
	}
}

func TestJWKSRefusesWeakAndBrokenKeys(t *testing.T) {
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	n := base64.RawURLEncoding.EncodeToString(weak.N.Bytes())
	strongN := base64.RawURLEncoding.EncodeToString(rsaKeys()[0].N.Bytes())
	for name, k := range map[string]jwk{
		"1024 bits":     {Kty: "RSA", Kid: "k", N: n, E: "AQAB"},
		"even exponent": {Kty: "RSA", Kid: "k", N: strongN, E: "Ag"},
		"bad base64":    {Kty: "RSA", Kid: "k", N: "!!", E: "AQAB"},
		"huge exponent": {Kty: "RSA", Kid: "k", N: strongN, E: "AQAAAAAB"},
	} {
		if _, err := k.rsaKey(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := (jwk{Kty: "RSA", Kid: "k", N: strongN, E: "AQAB"}).rsaKey(); err != nil {
		t.Errorf("a good key: %v", err)
	}
}

// TestCognitoOverHTTP runs requests through the handler with Cognito
// verification: a valid access token works, an outage of the key endpoint
// is a 503, a bad token a 401.
func TestCognitoOverHTTP(t *testing.T) {
	f := newCognitoFixture(t)
	withCognito := func(s *server) { s.auth = f.auth() }
	store, queue, source := memoryBackend.open(t)
	e := newTestEnv(t, store, queue, source, withCognito)
	bob := sign(t, f.accessClaims("bob", "nanny"), "key-1", rsaKeys()[0])

	want[babysitter.User](t, e.do("POST", "/v1/users", bob, userBody("bob", babysitter.UserNanny)), http.StatusCreated)
	want[babysitter.Page[babysitter.Job]](t, e.do("GET", "/v1/jobs?status=OPEN", bob, nil), http.StatusOK)
	wantProblem(t, e.do("GET", "/v1/jobs?status=OPEN", bob+"x", nil), http.StatusUnauthorized, "unauthenticated")

	// A fresh server (nothing cached) while the key endpoint is down.
	f.fail.Store(true)
	store, queue, source = memoryBackend.open(t)
	e = newTestEnv(t, store, queue, source, withCognito)
	r := e.do("GET", "/v1/jobs?status=OPEN", bob, nil)
	p := wantProblem(t, r, http.StatusServiceUnavailable, "unavailable")
	if strings.Contains(p.Detail, f.srv.URL) {
		t.Errorf("detail leaks the key URL: %q", p.Detail)
	}
}
