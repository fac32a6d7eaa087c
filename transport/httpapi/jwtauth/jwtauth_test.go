package jwtauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/babysitter-go/babysitter"
	qmemory "github.com/babysitter-go/babysitter/queue/memory"
	smemory "github.com/babysitter-go/babysitter/store/memory"
	"github.com/babysitter-go/babysitter/transport/httpapi"
)

// testKey signs the tests' HS256 tokens.
const testKey = "test-signing-key-0123456789abcdef"

func TestCheckKey(t *testing.T) {
	if err := CheckKey(testKey); err != nil {
		t.Errorf("a %d-byte key: %v", len(testKey), err)
	}
	if err := CheckKey(testKey[:MinKeyBytes-1]); err == nil || !strings.Contains(err.Error(), "at least 32") {
		t.Errorf("a 31-byte key: %v", err)
	}
}

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
		if got := RoleFromGroups(c.groups); got != c.want {
			t.Errorf("RoleFromGroups(%q) = %q, want %q", c.groups, got, c.want)
		}
	}
}

func TestHS256(t *testing.T) {
	a := NewHS256(testKey, 0)
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
		return jwt.MapClaims{"iss": DevIssuer, "sub": "alice", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "cognito:groups": []string{"parent"}}
	}

	tok, err := MintDevToken(testKey, "alice", []string{"nanny", "admin"}, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := a.Authenticate(ctx, tok); err != nil || got != (babysitter.Actor{Username: "alice", Role: babysitter.RoleAdmin, Subject: "alice"}) {
		t.Fatalf("minted token: %+v, %v", got, err)
	}
	// A day is the default limit; a server configured lower refuses it.
	day, err := MintDevToken(testKey, "alice", []string{"parent"}, 24*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, day); err != nil {
		t.Errorf("a 24 h token: %v", err)
	}
	short := NewHS256(testKey, 0)
	short.maxLifetime = time.Hour
	if _, err := short.Authenticate(ctx, day); !errors.Is(err, babysitter.ErrUnauthenticated) {
		t.Errorf("a 24 h token with -max-token-lifetime 1h: %v; want ErrUnauthenticated", err)
	}
	// sub is the username when cognito:username is absent.
	if got, err := a.Authenticate(ctx, sign(valid(), jwt.SigningMethodHS256, []byte(testKey))); err != nil || got.Username != "alice" || got.Role != babysitter.RoleParent {
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
		"no iat":        sign(with(valid(), "iat", nil), jwt.SigningMethodHS256, []byte(testKey)),
		// The attacks of issue 13: a token issued a year ahead, one that
		// lives a century, dates written as strings.
		"iat a year ahead":  sign(with(valid(), "iat", now.AddDate(1, 0, 0).Unix()), jwt.SigningMethodHS256, []byte(testKey)),
		"exp 100 years out": sign(with(valid(), "exp", now.AddDate(100, 0, 0).Unix()), jwt.SigningMethodHS256, []byte(testKey)),
		"lives 24 h 1 min":  sign(with(valid(), "exp", now.Add(24*time.Hour+time.Minute).Unix()), jwt.SigningMethodHS256, []byte(testKey)),
		"exp as a string":   sign(with(valid(), "exp", strconv.FormatInt(now.Add(time.Hour).Unix(), 10)), jwt.SigningMethodHS256, []byte(testKey)),
		"iat as a string":   sign(with(valid(), "iat", strconv.FormatInt(now.Unix(), 10)), jwt.SigningMethodHS256, []byte(testKey)),
		"nbf as a string":   sign(with(valid(), "nbf", strconv.FormatInt(now.Unix(), 10)), jwt.SigningMethodHS256, []byte(testKey)),
		"no username":       sign(func() jwt.MapClaims { c := valid(); delete(c, "sub"); return c }(), jwt.SigningMethodHS256, []byte(testKey)),
	}
	for name, tok := range bad {
		if got, err := a.Authenticate(ctx, tok); !errors.Is(err, babysitter.ErrUnauthenticated) {
			t.Errorf("%s: %+v, %v; want ErrUnauthenticated", name, got, err)
		}
	}
}

func TestMintDevTokenRefusesBadInput(t *testing.T) {
	for name, f := range map[string]func() (string, error){
		"bad user":  func() (string, error) { return MintDevToken(testKey, "A", []string{"parent"}, time.Hour, time.Now()) },
		"bad group": func() (string, error) { return MintDevToken(testKey, "alice", []string{"root"}, time.Hour, time.Now()) },
		"no ttl":    func() (string, error) { return MintDevToken(testKey, "alice", []string{"parent"}, 0, time.Now()) },
	} {
		if _, err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
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

// cognitoFixture is a stand-in Cognito user pool: an issuer URL serving a
// JWKS, and RS256 keys to sign tokens with.
type cognitoFixture struct {
	srv    *httptest.Server
	issuer string
	// published is the JWKS the server serves; fail makes it answer 500.
	published atomic.Value // []byte
	fail      atomic.Bool
	hits      atomic.Int32
	// gate, when set, holds every fetch until it is closed; entered gets
	// a value as each held fetch arrives.
	gate    atomic.Pointer[chan struct{}]
	entered chan struct{}
}

func newCognitoFixture(t *testing.T) *cognitoFixture {
	f := &cognitoFixture{entered: make(chan struct{}, 16)}
	f.publish(t, map[string]*rsa.PrivateKey{"key-1": rsaKeys()[0]})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /"+testPoolID+"/.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		if g := f.gate.Load(); g != nil {
			f.entered <- struct{}{}
			<-*g
		}
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

// hold makes the key endpoint hang until the returned release is called
// (or the test ends).
func (f *cognitoFixture) hold(t *testing.T) (release func()) {
	g := make(chan struct{})
	f.gate.Store(&g)
	release = sync.OnceFunc(func() { f.gate.Store(nil); close(g) })
	t.Cleanup(release)
	return release
}

// ecKey is a P-256 key for the published set: not RSA, so never usable
// for RS256, but a well-formed key the set may hold beside the RSA ones.
var ecKey = sync.OnceValue(func() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
})

// publish replaces the served key set, plus an EC key that must be
// skipped.
func (f *cognitoFixture) publish(t *testing.T, keys map[string]*rsa.PrivateKey) {
	t.Helper()
	ec, err := ecKey().PublicKey.Bytes() // uncompressed point: 0x04 || X || Y
	if err != nil {
		t.Fatal(err)
	}
	set := []map[string]string{{"kty": "EC", "kid": "ec-key", "crv": "P-256", "use": "sig", "alg": "ES256",
		"x": base64.RawURLEncoding.EncodeToString(ec[1:33]), "y": base64.RawURLEncoding.EncodeToString(ec[33:])}}
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

// auth is a verifier of the fixture's pool; its background refresh stops
// with the test.
func (f *cognitoFixture) auth(t *testing.T) *Cognito {
	t.Helper()
	a, err := NewCognito(t.Context(), CognitoConfig{Issuer: f.issuer, JWKSURL: f.issuer + "/.well-known/jwks.json", ClientID: testClientID,
		HTTPClient: f.srv.Client(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// idClaims and accessClaims are what Cognito puts in its tokens.
// testSub is the sub of the fixture's tokens, whatever their username.
const testSub = "8f3c0a52-0000-4000-8000-000000000001"

func (f *cognitoFixture) idClaims(username string, groups ...string) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": f.issuer, "sub": testSub, "aud": testClientID, "token_use": "id",
		"cognito:username": username, "cognito:groups": groups, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(),
	}
}

func (f *cognitoFixture) accessClaims(username string, groups ...string) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": f.issuer, "sub": testSub, "client_id": testClientID, "token_use": "access",
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

// wantFetches fails t unless the key endpoint has been asked n times.
func (f *cognitoFixture) wantFetches(t *testing.T, n int32, when string) {
	t.Helper()
	if got := f.hits.Load(); got != n {
		t.Fatalf("%d fetches of the key set %s, want %d", got, when, n)
	}
}

// with returns c with claim k set to v, or removed for nil.
func with(c jwt.MapClaims, k string, v any) jwt.MapClaims {
	if v == nil {
		delete(c, k)
	} else {
		c[k] = v
	}
	return c
}

func TestCognitoURLs(t *testing.T) {
	issuer, jwksURL := CognitoURLs("eu-west-1", testPoolID)
	if want := "https://cognito-idp.eu-west-1.amazonaws.com/" + testPoolID; issuer != want {
		t.Errorf("issuer %q, want %q", issuer, want)
	}
	if want := "https://cognito-idp.eu-west-1.amazonaws.com/" + testPoolID + "/.well-known/jwks.json"; jwksURL != want {
		t.Errorf("JWKS URL %q, want %q", jwksURL, want)
	}
}

func TestCognito(t *testing.T) {
	f := newCognitoFixture(t)
	a := f.auth(t)
	ctx := context.Background()
	key := rsaKeys()[0]

	good := map[string]struct {
		tok  string
		want babysitter.Actor
	}{
		"id token":     {sign(t, f.idClaims("alice", "parent"), "key-1", key), babysitter.Actor{Username: "alice", Role: babysitter.RoleParent, Subject: testSub}},
		"access token": {sign(t, f.accessClaims("bob", "nanny"), "key-1", key), babysitter.Actor{Username: "bob", Role: babysitter.RoleNanny, Subject: testSub}},
		"no groups":    {sign(t, f.idClaims("carol"), "key-1", key), babysitter.Actor{Username: "carol", Subject: testSub}},
		"24 h":         {sign(t, with(f.idClaims("dave"), "exp", time.Now().Add(24*time.Hour).Unix()), "key-1", key), babysitter.Actor{Username: "dave", Subject: testSub}},
	}
	for name, c := range good {
		if got, err := a.Authenticate(ctx, c.tok); err != nil || got != c.want {
			t.Errorf("%s: %+v, %v; want %+v", name, got, err, c.want)
		}
	}
	f.wantFetches(t, 1, "after four tokens (cached)")

	hs, _ := MintDevToken(testKey, "alice", []string{"admin"}, time.Hour, time.Now())
	bad := map[string]string{
		"HS256 dev token":        hs,
		"wrong key":              sign(t, f.idClaims("alice", "admin"), "key-1", rsaKeys()[1]),
		"unknown kid":            sign(t, f.idClaims("alice", "admin"), "key-9", key),
		"no kid":                 sign(t, f.idClaims("alice", "admin"), "", key),
		"EC key's kid":           sign(t, f.idClaims("alice", "admin"), "ec-key", key),
		"other issuer":           sign(t, with(f.idClaims("alice"), "iss", "https://cognito-idp.eu-west-1.amazonaws.com/other"), "key-1", key),
		"id token, other aud":    sign(t, with(f.idClaims("alice"), "aud", "other-client"), "key-1", key),
		"access, other client":   sign(t, with(f.accessClaims("alice"), "client_id", "other-client"), "key-1", key),
		"access token as id":     sign(t, with(f.accessClaims("alice"), "token_use", "id"), "key-1", key),
		"no token_use":           sign(t, with(f.idClaims("alice"), "token_use", nil), "key-1", key),
		"refresh token_use":      sign(t, with(f.idClaims("alice"), "token_use", "refresh"), "key-1", key),
		"expired":                sign(t, with(f.idClaims("alice"), "exp", time.Now().Add(-time.Hour).Unix()), "key-1", key),
		"no exp":                 sign(t, with(f.idClaims("alice"), "exp", nil), "key-1", key),
		"no iat":                 sign(t, with(f.idClaims("alice"), "iat", nil), "key-1", key),
		"iat a year ahead":       sign(t, with(f.idClaims("alice"), "iat", time.Now().AddDate(1, 0, 0).Unix()), "key-1", key),
		"lives 25 h":             sign(t, with(f.idClaims("alice"), "exp", time.Now().Add(25*time.Hour).Unix()), "key-1", key),
		"exp 100 years out":      sign(t, with(f.idClaims("alice"), "exp", time.Now().AddDate(100, 0, 0).Unix()), "key-1", key),
		"exp as a string":        sign(t, with(f.idClaims("alice"), "exp", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)), "key-1", key),
		"iat as a string":        sign(t, with(f.idClaims("alice"), "iat", strconv.FormatInt(time.Now().Unix(), 10)), "key-1", key),
		"uppercase username":     sign(t, f.idClaims("Alice"), "key-1", key),
		"access token w/o name":  sign(t, with(f.accessClaims("alice"), "username", nil), "key-1", key),
		"id token, only sub set": sign(t, with(f.idClaims("alice"), "cognito:username", nil), "key-1", key),
		"id token without sub":   sign(t, with(f.idClaims("alice", "parent"), "sub", nil), "key-1", key),
		"access token, sub \"\"": sign(t, with(f.accessClaims("alice", "parent"), "sub", ""), "key-1", key),
	}
	for name, tok := range bad {
		if got, err := a.Authenticate(ctx, tok); !errors.Is(err, babysitter.ErrUnauthenticated) {
			t.Errorf("%s: %+v, %v; want ErrUnauthenticated", name, got, err)
		}
	}
}

// unsigned returns a token with c and header h and the given signature
// bytes (none for an unsigned token).
func unsigned(t *testing.T, h map[string]any, c jwt.MapClaims, sig []byte) string {
	t.Helper()
	hb, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc(hb) + "." + enc(cb) + "." + enc(sig)
}

// TestCognitoFetchesOnlyForPlausibleTokens: a token naming a key ID the
// cache does not know may trigger a fetch of the key set — but only once
// everything checkable without the key passed (an RS256 signature of RSA
// size, issuer, dates, lifetime, token use, app client), and at most once
// per interval.
func TestCognitoFetchesOnlyForPlausibleTokens(t *testing.T) {
	f := newCognitoFixture(t)
	a := f.auth(t)
	ctx := context.Background()
	key := rsaKeys()[0]
	f.wantFetches(t, 1, "at start")
	noFetch := map[string]string{
		"alg none":            unsigned(t, map[string]any{"alg": "none", "kid": "made-up"}, f.idClaims("alice", "admin"), nil),
		"RS256, no signature": unsigned(t, map[string]any{"alg": "RS256", "kid": "made-up"}, f.idClaims("alice", "admin"), nil),
		"RS256, short sig":    unsigned(t, map[string]any{"alg": "RS256", "kid": "made-up"}, f.idClaims("alice", "admin"), make([]byte, 64)),
		"expired":             sign(t, with(f.idClaims("alice"), "exp", time.Now().Add(-time.Hour).Unix()), "made-up", key),
		"other issuer":        sign(t, with(f.idClaims("alice"), "iss", "https://example.com/pool"), "made-up", key),
		"other client":        sign(t, with(f.idClaims("alice"), "aud", "other-client"), "made-up", key),
		"iat ahead":           sign(t, with(f.idClaims("alice"), "iat", time.Now().AddDate(1, 0, 0).Unix()), "made-up", key),
		"lives too long":      sign(t, with(f.idClaims("alice"), "exp", time.Now().AddDate(100, 0, 0).Unix()), "made-up", key),
		"exp as a string":     sign(t, with(f.idClaims("alice"), "exp", "99999999999"), "made-up", key),
	}
	for name, tok := range noFetch {
		if _, err := a.Authenticate(ctx, tok); !errors.Is(err, babysitter.ErrUnauthenticated) {
			t.Errorf("%s: %v; want ErrUnauthenticated", name, err)
		}
	}
	f.wantFetches(t, 1, "after tokens that fail before the key")
	// A plausible token with an unknown kid does fetch — once.
	for i := range 5 {
		if _, err := a.Authenticate(ctx, sign(t, f.idClaims("alice"), "made-up-"+strconv.Itoa(i), key)); !errors.Is(err, babysitter.ErrUnauthenticated) {
			t.Errorf("made-up kid %d: %v; want ErrUnauthenticated", i, err)
		}
	}
	f.wantFetches(t, 2, "after five made-up kids (one per interval)")
}

// TestJWKSSlowEndpoint: while a fetch of the key set hangs, tokens with a
// cached key are verified without waiting for it, and further unknown key
// IDs are refused without a second fetch or a wait.
func TestJWKSSlowEndpoint(t *testing.T) {
	f := newCognitoFixture(t)
	a := f.auth(t)
	ctx := context.Background()
	key := rsaKeys()[0]
	known := sign(t, f.accessClaims("bob", "nanny"), "key-1", key)
	made := make([]string, 20)
	for i := range made {
		made[i] = sign(t, f.idClaims("mallory", "admin"), "made-up-"+strconv.Itoa(i), key)
	}

	release := f.hold(t)
	first := make(chan error, 1)
	go func() { _, err := a.Authenticate(ctx, made[0]); first <- err }()
	<-f.entered // the unknown kid's fetch is in flight, and hangs

	errs := make(chan error, 2*len(made))
	var wg sync.WaitGroup
	for i := range made[1:] {
		wg.Go(func() {
			if got, err := a.Authenticate(ctx, known); err != nil || got.Username != "bob" {
				errs <- fmt.Errorf("known kid during the fetch: %+v, %v", got, err)
			}
		})
		wg.Go(func() {
			if _, err := a.Authenticate(ctx, made[i+1]); !errors.Is(err, babysitter.ErrUnauthenticated) {
				errs <- fmt.Errorf("another made-up kid during the fetch: %v", err)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case err := <-first:
		t.Fatalf("the held fetch ended while held: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("requests are waiting for the held fetch")
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	select {
	case err := <-first:
		t.Fatalf("the first unknown kid returned before its fetch did: %v", err)
	default:
	}
	release()
	if err := <-first; !errors.Is(err, babysitter.ErrUnauthenticated) {
		t.Errorf("the first unknown kid: %v; want ErrUnauthenticated", err)
	}
	f.wantFetches(t, 2, "at start and for all the made-up kids")
}

func TestJWKSRotationAndOutage(t *testing.T) {
	f := newCognitoFixture(t)
	a := f.auth(t)
	ctx := context.Background()
	k1, k2 := rsaKeys()[0], rsaKeys()[1]
	ok := func(tok string) {
		t.Helper()
		if _, err := a.Authenticate(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	ok(sign(t, f.idClaims("alice"), "key-1", k1))

	// The pool rotates to key-2: the first token signed with it refreshes
	// the set and is accepted.
	f.publish(t, map[string]*rsa.PrivateKey{"key-1": k1, "key-2": k2})
	ok(sign(t, f.idClaims("alice"), "key-2", k2))
	f.wantFetches(t, 2, "after the rotation")
	// A second new key within the interval is refused without a fetch.
	f.publish(t, map[string]*rsa.PrivateKey{"key-1": k1, "key-2": k2, "key-3": k1})
	if _, err := a.Authenticate(ctx, sign(t, f.idClaims("alice"), "key-3", k1)); !errors.Is(err, babysitter.ErrUnauthenticated) {
		t.Fatalf("another new kid within the interval: %v; want a refusal without refetch", err)
	}
	f.wantFetches(t, 2, "after another new kid within the interval")

	// The key endpoint goes down: cached keys keep working,
	f.fail.Store(true)
	ok(sign(t, f.idClaims("alice"), "key-1", k1))
	// but a fresh verifier with nothing cached answers keys-unavailable,
	// which is the server's problem, not the token's.
	fresh := f.auth(t)
	_, err := fresh.Authenticate(ctx, sign(t, f.idClaims("alice"), "key-1", k1))
	if !errors.Is(err, ErrKeysUnavailable) || errors.Is(err, babysitter.ErrUnauthenticated) {
		t.Fatalf("no keys: %v; want ErrKeysUnavailable", err)
	}
}

// TestJWKSRefusesWeakKeys: a published RSA key under 2048 bits verifies
// nothing, whatever it signed.
func TestJWKSRefusesWeakKeys(t *testing.T) {
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	f := newCognitoFixture(t)
	f.publish(t, map[string]*rsa.PrivateKey{"key-1": rsaKeys()[0], "weak": weak})
	a := f.auth(t)
	if _, err := a.Authenticate(context.Background(), sign(t, f.idClaims("alice", "admin"), "weak", weak)); !errors.Is(err, babysitter.ErrUnauthenticated) {
		t.Errorf("a token signed with a 1024-bit key: %v; want ErrUnauthenticated", err)
	}
	if _, err := a.Authenticate(context.Background(), sign(t, f.idClaims("alice"), "key-1", rsaKeys()[0])); err != nil {
		t.Errorf("the strong key beside it: %v", err)
	}
}

// TestCognitoOverHTTP runs requests through the HTTP API with Cognito
// verification: a valid access token works, an outage of the key endpoint
// is a 503 (the server's problem), a bad token a 401.
func TestCognitoOverHTTP(t *testing.T) {
	f := newCognitoFixture(t)
	serve := func() *httptest.Server {
		q := qmemory.New(qmemory.Options{})
		svc := babysitter.New(smemory.New(), q, babysitter.Options{Logger: slog.New(slog.DiscardHandler)})
		srv := httptest.NewServer(httpapi.New(svc, f.auth(t), httpapi.Options{Logger: slog.New(slog.DiscardHandler)}))
		t.Cleanup(srv.Close)
		return srv
	}
	do := func(srv *httptest.Server, method, path, tok, body string) (int, httpapi.Problem) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var p httpapi.Problem
		if resp.Header.Get("Content-Type") == "application/problem+json" {
			if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
				t.Fatal(err)
			}
		}
		return resp.StatusCode, p
	}
	srv := serve()
	bob := sign(t, f.accessClaims("bob", "nanny"), "key-1", rsaKeys()[0])
	newBob := `{"username":"bob","email":"bob@example.com","type":"NANNY","firstName":"Bob","lastName":"Example","dateOfBirth":"1990-05-17"}`
	if status, p := do(srv, "POST", "/v1/users", bob, newBob); status != http.StatusCreated {
		t.Fatalf("create bob with an access token: %d %+v", status, p)
	}
	if status, p := do(srv, "GET", "/v1/jobs?jobStatus=OPEN", bob, ""); status != http.StatusOK {
		t.Fatalf("list jobs: %d %+v", status, p)
	}
	if status, p := do(srv, "GET", "/v1/jobs?jobStatus=OPEN", bob+"x", ""); status != http.StatusUnauthorized || p.Code != "unauthenticated" {
		t.Errorf("a bad signature: %d %+v", status, p)
	}

	// A fresh server (nothing cached) while the key endpoint is down.
	f.fail.Store(true)
	status, p := do(serve(), "GET", "/v1/jobs?jobStatus=OPEN", bob, "")
	if status != http.StatusServiceUnavailable || p.Code != "unavailable" {
		t.Fatalf("keys unavailable: %d %+v, want 503 unavailable", status, p)
	}
	if strings.Contains(p.Detail, f.srv.URL) {
		t.Errorf("detail leaks the key URL: %q", p.Detail)
	}
}
