package main

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"
)

// JWKS caching. Cognito rotates keys rarely and publishes the new one before
// signing with it, so a cached set is refreshed hourly, and at once — but at
// most every jwksMinRefresh — when a token names a key not in the cache.
const (
	jwksMaxAge      = time.Hour
	jwksMinRefresh  = time.Minute
	jwksFetchLimit  = 5 * time.Second
	jwksMaxBodySize = 1 << 20
	// minRSABits refuses keys too weak to trust, whatever the set says.
	minRSABits = 2048
)

// jwks is a cached JSON Web Key Set of RSA signing keys, fetched from url.
// It is safe for concurrent use; one fetch runs at a time and the others
// wait for its result rather than fetch again.
type jwks struct {
	url    string
	client *http.Client
	now    func() time.Time
	// minRefresh bounds refetches triggered by unknown key IDs, so tokens
	// with made-up kids cannot make the server hammer the key endpoint.
	minRefresh time.Duration

	mu          sync.Mutex
	keys        map[string]*rsa.PublicKey
	fetchedAt   time.Time // of the keys held
	attemptedAt time.Time // of the last fetch, successful or not
}

func newJWKS(url string, client *http.Client) *jwks {
	if client == nil {
		client = http.DefaultClient
	}
	return &jwks{url: url, client: client, now: time.Now, minRefresh: jwksMinRefresh}
}

// key returns the public key with ID kid. It fails with errKeysUnavailable
// when the set cannot be fetched and no key is cached for kid, and with a
// plain error (a bad token) when the set does not hold kid.
func (k *jwks) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	cached, ok := k.keys[kid]
	if ok && now.Sub(k.fetchedAt) < jwksMaxAge {
		return cached, nil
	}
	if !k.attemptedAt.IsZero() && now.Sub(k.attemptedAt) < k.minRefresh {
		if ok {
			return cached, nil // stale but recent attempts failed: better than nothing
		}
		if k.keys == nil {
			return nil, fmt.Errorf("%w: the last fetch failed", errKeysUnavailable)
		}
		return nil, fmt.Errorf("unknown signing key %q", kid)
	}
	k.attemptedAt = now
	keys, err := k.fetch(ctx)
	if err != nil {
		if ok {
			return cached, nil // keep serving the known key through an outage
		}
		return nil, fmt.Errorf("%w: %w", errKeysUnavailable, err)
	}
	k.keys, k.fetchedAt = keys, now
	if key, ok := keys[kid]; ok {
		return key, nil
	}
	return nil, fmt.Errorf("unknown signing key %q", kid)
}

// jwk is the part of a JSON Web Key (RFC 7517) an RSA signature key needs.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// fetch downloads and parses the set. Keys that are not RSA signature keys
// are skipped; a set with no usable key is an error.
func (k *jwks) fetch(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	// Other requests wait for this fetch: the client that happened to
	// trigger it going away must not fail it for them.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), jwksFetchLimit)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", k.url, resp.Status)
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, jwksMaxBodySize)).Decode(&set); err != nil {
		return nil, fmt.Errorf("GET %s: %w", k.url, err)
	}
	keys := map[string]*rsa.PublicKey{}
	var errs []error
	for _, j := range set.Keys {
		if j.Kty != "RSA" || (j.Use != "" && j.Use != "sig") || (j.Alg != "" && j.Alg != "RS256") || j.Kid == "" {
			continue
		}
		key, err := j.rsaKey()
		if err != nil {
			errs = append(errs, fmt.Errorf("key %q: %w", j.Kid, err))
			continue
		}
		keys[j.Kid] = key
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("GET %s: no usable RS256 key: %w", k.url, errors.Join(errs...))
	}
	return keys, nil
}

// rsaKey decodes the modulus and exponent (base64url big-endian integers).
func (j jwk) rsaKey() (*rsa.PublicKey, error) {
	n, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(j.N, "="))
	if err != nil {
		return nil, fmt.Errorf("modulus: %w", err)
	}
	e, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(j.E, "="))
	if err != nil {
		return nil, fmt.Errorf("exponent: %w", err)
	}
	key := &rsa.PublicKey{N: new(big.Int).SetBytes(n)}
	exp := new(big.Int).SetBytes(e)
	if !exp.IsInt64() || exp.Int64() < 3 || exp.Int64() > 1<<31-1 || exp.Bit(0) == 0 {
		return nil, errors.New("exponent out of range")
	}
	key.E = int(exp.Int64())
	if key.N.BitLen() < minRSABits {
		return nil, fmt.Errorf("modulus of %d bits, want at least %d", key.N.BitLen(), minRSABits)
	}
	return key, nil
}
