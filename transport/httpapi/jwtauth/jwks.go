package jwtauth

import (
	"context"
	"crypto/rsa"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// The Cognito key set is fetched and cached by keyfunc (over jwkset): a
// fetch runs outside the cache's lock, so cached keys are served while it
// is in flight. The set is refreshed hourly in the background; Cognito
// rotates rarely and publishes a new key before signing with it. A token
// naming a key ID the cache does not hold triggers a refresh at once — but
// at most one per jwksUnknownKIDInterval: the limiter holds one token,
// later requests do not wait for the next one (they would wait longer than
// jwksFetchLimit) and are refused, so made-up key IDs cannot make the
// server hammer the key endpoint or queue behind a slow one.
const (
	jwksRefreshInterval    = time.Hour
	jwksUnknownKIDInterval = time.Minute
	// jwksFetchLimit bounds one fetch; keyfunc also uses it as the most an
	// unknown-kid request waits for the limiter, which it is far below.
	jwksFetchLimit = 5 * time.Second
	// minRSABits refuses keys too weak to trust, whatever the set says.
	minRSABits = 2048
)

// jwks is a cached JSON Web Key Set of RSA signing keys, fetched from url.
// It is safe for concurrent use.
type jwks struct {
	url     string
	keyfunc keyfunc.Keyfunc
}

// newJWKS fetches the set at url once (a failure is logged and the set
// stays empty until a later fetch succeeds) and refreshes it in the
// background until ctx ends. Unknown key IDs refresh it at most once per
// unknownKIDInterval.
func newJWKS(ctx context.Context, url string, client *http.Client, log *slog.Logger, unknownKIDInterval time.Duration) (*jwks, error) {
	if client == nil {
		client = &http.Client{Timeout: jwksFetchLimit}
	}
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{url}, keyfunc.Override{
		Client:            client,
		HTTPTimeout:       jwksFetchLimit,
		RateLimitWaitMax:  jwksFetchLimit,
		RefreshInterval:   jwksRefreshInterval,
		RefreshUnknownKID: rate.NewLimiter(rate.Every(unknownKIDInterval), 1),
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(ctx context.Context, err error) {
				log.WarnContext(ctx, "fetching the token signing keys failed; cached keys stay in use", "url", u, "err", err)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("JWKS %s: %w", url, err)
	}
	return &jwks{url: url, keyfunc: kf}, nil
}

// key returns the RSA public key that token t names with kid. It fails
// with ErrKeysUnavailable when no key at all could be fetched yet (the
// server's problem, not the token's), and with a plain error (a bad token)
// when the set does not hold kid or holds a key too weak for it.
func (k *jwks) key(ctx context.Context, t *jwt.Token, kid string) (*rsa.PublicKey, error) {
	key, err := k.keyfunc.KeyfuncCtx(ctx)(t)
	if err != nil {
		if all, _ := k.keyfunc.Storage().KeyReadAll(ctx); len(all) == 0 {
			return nil, fmt.Errorf("%w: none could be fetched", ErrKeysUnavailable)
		}
		// Not found, not refetched (the limiter said no), or not for
		// RS256: the details are keyfunc's, the client learns the kid.
		return nil, fmt.Errorf("no usable signing key %q", kid)
	}
	pub, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("signing key %q is not an RSA key", kid)
	}
	if pub.N.BitLen() < minRSABits {
		return nil, fmt.Errorf("signing key %q has %d bits, want at least %d", kid, pub.N.BitLen(), minRSABits)
	}
	return pub, nil
}
