package jwtauth

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/babysitter-go/babysitter"
	qmemory "github.com/babysitter-go/babysitter/queue/memory"
	smemory "github.com/babysitter-go/babysitter/store/memory"
	"github.com/babysitter-go/babysitter/transport/httpapi"
)

// Attacks on token verification, from the security review. Both are
// regression tests: TestAttack_RecycledUsernameInheritsAccount failed when
// written (a finding, fixed by binding accounts to the token's sub);
// every forgery of TestAttack_TokenForgeriesRefused was refused from the
// start.

// TestAttack_RecycledUsernameInheritsAccount: Cognito lets a user delete
// herself and the SAM template lets anyone sign up choosing a username:
// once "alice" is gone from the pool, a stranger signs up as "alice" — a
// different sub. Her tokens must not act through the old alice's
// account: CreateUser bound it to the original sub (Actor.Subject), so
// the stranger sees only the public profile, and is refused (403) when
// she edits it, even in the parent group. The original alice still can.
func TestAttack_RecycledUsernameInheritsAccount(t *testing.T) {
	f := newCognitoFixture(t)
	svc := babysitter.New(smemory.New(), qmemory.New(qmemory.Options{}), babysitter.Options{Logger: slog.New(slog.DiscardHandler)})
	h := httpapi.New(svc, f.auth(t), httpapi.Options{Logger: slog.New(slog.DiscardHandler)})
	// do serves one request in process and decodes its JSON answer.
	do := func(method, path, tok, body string) (int, map[string]any) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequestWithContext(t.Context(), method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(rec, req)
		var v map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &v)
		return rec.Code, v
	}
	key := rsaKeys()[0]
	original := sign(t, f.idClaims("alice", "parent"), "key-1", key)
	newAlice := `{"username":"alice","email":"alice@example.com","type":"PARENT","firstName":"Alice","lastName":"Original",` +
		`"dateOfBirth":"1985-02-03","phoneNumber":"+4915112345678","address":"7 Secret Lane"}`
	if status, v := do("POST", "/v1/users", original, newAlice); status != http.StatusCreated {
		t.Fatalf("the original alice signs up: %d %v", status, v)
	}

	// Another Cognito user — another sub — who took the username "alice".
	strangerSub := "0b1e2c3d-0000-4000-8000-00000000beef"
	noGroup := sign(t, with(f.idClaims("alice"), "sub", strangerSub), "key-1", key)
	if status, v := do("GET", "/v1/users/alice", noGroup, ""); status == http.StatusOK && (v["email"] != nil || v["address"] != nil || v["phoneNumber"] != nil) {
		t.Errorf("a stranger (sub %s, no group) reads the original alice's private profile: email %v, phone %v, address %v",
			strangerSub, v["email"], v["phoneNumber"], v["address"])
	}
	asParent := sign(t, with(f.idClaims("alice", "parent"), "sub", strangerSub), "key-1", key)
	if status, v := do("PATCH", "/v1/users/alice", asParent, `{"about":"taken over"}`); status != http.StatusForbidden {
		t.Errorf("a stranger (sub %s) in the parent group edits the original alice's account: %d, about %v; want 403", strangerSub, status, v["about"])
	}
	if status, v := do("DELETE", "/v1/users/alice", asParent, ""); status != http.StatusForbidden {
		t.Errorf("a stranger deletes the original alice's account: %d %v; want 403", status, v)
	}
	if status, v := do("PATCH", "/v1/users/alice", original, `{"about":"still mine"}`); status != http.StatusOK || v["about"] != "still mine" {
		t.Errorf("the original alice edits her account: %d, about %v; want 200", status, v["about"])
	}
	if status, v := do("GET", "/v1/users/alice", original, ""); status != http.StatusOK || v["email"] != "alice@example.com" {
		t.Errorf("the original alice reads her private profile: %d, email %v", status, v["email"])
	}
}

// TestAttack_TokenForgeriesRefused (regression): forgeries beyond the
// ones TestCognito lists — algorithm confusion (HS256 keyed with the
// pool's public RSA key, in every encoding an attacker could guess),
// other RSA algorithms with the right key, a key or key-set URL embedded
// in the header (jwk, jku, x5u), a not-yet-valid token (nbf), groups as
// a string instead of a list — are all 401, and none makes the server
// fetch from a URL the token names.
func TestAttack_TokenForgeriesRefused(t *testing.T) {
	f := newCognitoFixture(t)
	a := f.auth(t)
	ctx := t.Context()
	key := rsaKeys()[0]
	attackerKey := rsaKeys()[1]

	var attackerHits atomic.Int32
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attackerHits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"keys":[]}`))
	}))
	t.Cleanup(attacker.Close)

	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	hmacWith := func(secret []byte) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, f.idClaims("alice", "admin"))
		tok.Header["kid"] = "key-1"
		s, err := tok.SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	signAlg := func(m jwt.SigningMethod, c jwt.Claims, hdr map[string]any, k *rsa.PrivateKey) string {
		tok := jwt.NewWithClaims(m, c)
		tok.Header["kid"] = "key-1"
		for name, v := range hdr {
			tok.Header[name] = v
		}
		s, err := tok.SignedString(k)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	attackerJWK := map[string]any{
		"kty": "RSA", "kid": "key-1", "alg": "RS256", "use": "sig",
		"n": base64.RawURLEncoding.EncodeToString(attackerKey.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(attackerKey.E)).Bytes()),
	}
	forgeries := map[string]string{
		"HS256 keyed with the PEM public key":      hmacWith(pemKey),
		"HS256 keyed with the DER public key":      hmacWith(der),
		"HS256 keyed with the modulus":             hmacWith(key.N.Bytes()),
		"RS512 with the pool's key":                signAlg(jwt.SigningMethodRS512, f.idClaims("alice", "admin"), nil, key),
		"PS256 with the pool's key":                signAlg(jwt.SigningMethodPS256, f.idClaims("alice", "admin"), nil, key),
		"attacker key embedded as jwk":             signAlg(jwt.SigningMethodRS256, f.idClaims("alice", "admin"), map[string]any{"jwk": attackerJWK}, attackerKey),
		"attacker key set named by jku":            signAlg(jwt.SigningMethodRS256, f.idClaims("alice", "admin"), map[string]any{"jku": attacker.URL, "kid": "x"}, attackerKey),
		"attacker certificate named by x5u":        signAlg(jwt.SigningMethodRS256, f.idClaims("alice", "admin"), map[string]any{"x5u": attacker.URL}, attackerKey),
		"nbf an hour ahead":                        sign(t, with(f.idClaims("alice", "admin"), "nbf", time.Now().Add(time.Hour).Unix()), "key-1", key),
		"groups as a string":                       sign(t, with(f.idClaims("alice"), "cognito:groups", "admin"), "key-1", key),
		"username with a key delimiter":            sign(t, f.idClaims("alice#admin"), "key-1", key),
		"username with a path":                     sign(t, f.idClaims("../alice"), "key-1", key),
		"access token with the client only in aud": sign(t, with(with(f.accessClaims("alice", "admin"), "client_id", "other"), "aud", testClientID), "key-1", key),
	}
	for name, tok := range forgeries {
		if got, err := a.Authenticate(ctx, tok); !errors.Is(err, babysitter.ErrUnauthenticated) {
			t.Errorf("%s: %+v, %v; want ErrUnauthenticated", name, got, err)
		}
	}
	if n := attackerHits.Load(); n != 0 {
		t.Errorf("the server fetched from the attacker's URL %d time(s)", n)
	}
}
