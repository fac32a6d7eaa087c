// Package jwtauth verifies the bearer tokens of the HTTP API
// (transport/httpapi): HS256 development tokens signed with a shared key,
// and the RS256 ID and access tokens of an Amazon Cognito user pool,
// checked against the pool's published keys (fetched and cached with
// keyfunc). Both implement httpapi.Authenticator and read the same claims,
// Cognito's: the username ("cognito:username", or "username" in an access
// token) and the groups ("cognito:groups") admin, parent or nanny, which
// are the caller's role.
//
// In both, a token needs iat and exp as numbers, iat not in the future
// (beyond a 30 s leeway), and a lifetime (exp − iat) of at most
// MaxLifetime. A rejected token is a babysitter.ErrUnauthenticated error;
// a Cognito pool whose keys cannot be fetched is ErrKeysUnavailable, the
// server's problem rather than the token's.
package jwtauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/babysitter-go/babysitter"
)

// claims are the JWT claims the server reads: Cognito's names, which the
// development tokens use too, so a client sees one shape in both modes. It
// implements jwt.Claims itself, rather than embedding jwt.RegisteredClaims,
// so that its dates are numbers only (see numericDate).
type claims struct {
	Issuer    string           `json:"iss,omitempty"`
	Subject   string           `json:"sub,omitempty"`
	Audience  jwt.ClaimStrings `json:"aud,omitempty"`
	ExpiresAt *numericDate     `json:"exp,omitempty"`
	NotBefore *numericDate     `json:"nbf,omitempty"`
	IssuedAt  *numericDate     `json:"iat,omitempty"`
	// CognitoUsername is the username in Cognito ID tokens (and dev tokens).
	CognitoUsername string `json:"cognito:username,omitempty"`
	// Username is the username in Cognito access tokens.
	Username string   `json:"username,omitempty"`
	Groups   []string `json:"cognito:groups,omitempty"`
	// TokenUse is "id" or "access" in Cognito tokens.
	TokenUse string `json:"token_use,omitempty"`
	// ClientID is the app client of a Cognito access token (ID tokens have
	// it as the audience instead).
	ClientID string `json:"client_id,omitempty"`
}

// GetExpirationTime, GetIssuedAt, GetNotBefore, GetIssuer, GetSubject and
// GetAudience make claims a jwt.Claims.
func (c *claims) GetExpirationTime() (*jwt.NumericDate, error) { return c.ExpiresAt.date(), nil }
func (c *claims) GetIssuedAt() (*jwt.NumericDate, error)       { return c.IssuedAt.date(), nil }
func (c *claims) GetNotBefore() (*jwt.NumericDate, error)      { return c.NotBefore.date(), nil }
func (c *claims) GetIssuer() (string, error)                   { return c.Issuer, nil }
func (c *claims) GetSubject() (string, error)                  { return c.Subject, nil }
func (c *claims) GetAudience() (jwt.ClaimStrings, error)       { return c.Audience, nil }

// numericDate is a JWT date (RFC 7519's NumericDate): a JSON number of
// seconds. jwt.NumericDate also takes a string holding a number, which no
// issuer of ours writes; a token that does is refused, not reinterpreted.
type numericDate struct{ jwt.NumericDate }

func newNumericDate(t time.Time) *numericDate { return &numericDate{*jwt.NewNumericDate(t)} }

// UnmarshalJSON accepts a JSON number only.
func (d *numericDate) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || !(b[0] == '-' || b[0] >= '0' && b[0] <= '9') {
		return fmt.Errorf("a date must be a number of seconds, not %.20s", b)
	}
	return d.NumericDate.UnmarshalJSON(b)
}

// date is d as the jwt package's type; nil for an absent date.
func (d *numericDate) date() *jwt.NumericDate {
	if d == nil {
		return nil
	}
	return &d.NumericDate
}

// Token lifetimes. A token's lifetime is exp − iat: a stolen token is
// useful for at most that long, so it is bounded and iat is required.
// Cognito issues ID and access tokens valid for 5 minutes to 1 day (an app
// client setting), so the default accepts any of them.
const (
	// DefaultMaxLifetime is the longest lifetime accepted unless an
	// authenticator is given a shorter one.
	DefaultMaxLifetime = 24 * time.Hour
	// MaxLifetimeLimit is the longest lifetime that may be configured.
	MaxLifetimeLimit = 24 * time.Hour
)

// ErrKeysUnavailable is returned by Cognito.Authenticate when no signing
// key could be fetched yet: the server cannot verify any token, which is
// its problem (a 503), not the token's (a 401).
var ErrKeysUnavailable = errors.New("token verification keys are unavailable")

// lifetime is maxLifetime, or DefaultMaxLifetime for 0.
func lifetime(maxLifetime time.Duration) time.Duration {
	if maxLifetime <= 0 {
		return DefaultMaxLifetime
	}
	return maxLifetime
}

// checkTimes checks what the jwt package's validator does not: that iat is
// present, not in the future (beyond the leeway), and that the token lives
// at most maxLifetime.
func (c *claims) checkTimes(now time.Time, maxLifetime time.Duration) error {
	if c.IssuedAt == nil || c.ExpiresAt == nil {
		return errors.New("the token needs iat and exp")
	}
	iat, exp := c.IssuedAt.Time, c.ExpiresAt.Time
	if iat.After(now.Add(leeway)) {
		return errors.New("the token is issued in the future (iat)")
	}
	if exp.Sub(iat) > maxLifetime {
		return fmt.Errorf("the token lives %v (exp − iat), more than the %v allowed", exp.Sub(iat).Round(time.Second), maxLifetime)
	}
	return nil
}

// RoleFromGroups picks the actor's role from its groups. When a user is in
// several, the most privileged wins, so adding someone to "admin" works
// without removing them from their other groups. Unknown groups are
// ignored; no known group means no role, which every role check refuses.
func RoleFromGroups(groups []string) babysitter.Role {
	for _, r := range []babysitter.Role{babysitter.RoleAdmin, babysitter.RoleParent, babysitter.RoleNanny} {
		if slices.Contains(groups, string(r)) {
			return r
		}
	}
	return ""
}

// unauthenticated is the 401 of a rejected token.
func unauthenticated(format string, args ...any) error {
	return babysitter.Errorf(babysitter.ErrUnauthenticated, format, args...)
}

// actorFrom turns verified claims into an actor: the username, the role
// of the groups and the subject (sub), which binds the account
// (babysitter.Actor.Subject). A username the library would refuse as a
// key is refused here, once, rather than in every operation.
func actorFrom(username, subject string, groups []string) (babysitter.Actor, error) {
	if !babysitter.ValidUsername(username) {
		return babysitter.Actor{}, unauthenticated("the token's username %q is not a valid username", username)
	}
	return babysitter.Actor{Username: username, Role: RoleFromGroups(groups), Subject: subject}, nil
}

// DevIssuer is the issuer of development tokens, checked on verification
// so that a token minted for some other purpose with the same key does not
// pass for one of ours.
const DevIssuer = "babysitter-dev"

// leeway tolerates clock skew between the token issuer and this server.
const leeway = 30 * time.Second

// MinKeyBytes is the shortest HS256 key accepted: RFC 7518 §3.2 asks for
// a key at least as long as the hash (256 bits); a shorter one can be
// guessed offline from any token.
const MinKeyBytes = 32

// CheckKey refuses an HS256 key too short to be secret.
func CheckKey(key string) error {
	if len(key) < MinKeyBytes {
		return fmt.Errorf("the HS256 key is %d bytes; it must be at least %d (for example $(openssl rand -hex 32))",
			len(key), MinKeyBytes)
	}
	return nil
}

// HS256 verifies development tokens signed with a shared key. Anyone
// holding the key can mint any token, an admin's included: it is for
// development and tests.
type HS256 struct {
	key         []byte
	parser      *jwt.Parser
	maxLifetime time.Duration
	now         func() time.Time
}

// NewHS256 verifies tokens signed with key (see CheckKey) that live at
// most maxLifetime (DefaultMaxLifetime for 0).
func NewHS256(key string, maxLifetime time.Duration) *HS256 {
	return &HS256{
		key: []byte(key),
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithIssuer(DevIssuer),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(leeway),
		),
		maxLifetime: lifetime(maxLifetime),
		now:         time.Now,
	}
}

// Authenticate verifies token and returns the actor it names.
func (a *HS256) Authenticate(_ context.Context, token string) (babysitter.Actor, error) {
	var c claims
	if _, err := a.parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return a.key, nil }); err != nil {
		return babysitter.Actor{}, unauthenticated("invalid token: %v", err)
	}
	if err := c.checkTimes(a.now(), a.maxLifetime); err != nil {
		return babysitter.Actor{}, unauthenticated("invalid token: %v", err)
	}
	username := c.CognitoUsername
	if username == "" {
		username = c.Subject
	}
	return actorFrom(username, c.Subject, c.Groups)
}

// MintDevToken signs a development token for username in groups, valid for
// ttl from now, that HS256 with the same key accepts. The HTTP example's
// token command prints it and the tests use it, so both exercise the
// exact claims the server verifies.
func MintDevToken(key, username string, groups []string, ttl time.Duration, now time.Time) (string, error) {
	if !babysitter.ValidUsername(username) {
		return "", fmt.Errorf("user %q: want 3 to 32 characters of a-z, 0-9, '_', '.', '-'", username)
	}
	for _, g := range groups {
		if RoleFromGroups([]string{g}) == "" {
			return "", fmt.Errorf("group %q: want admin, parent or nanny", g)
		}
	}
	if ttl <= 0 {
		return "", errors.New("the ttl must be positive")
	}
	c := &claims{
		Issuer:          DevIssuer,
		Subject:         username,
		IssuedAt:        newNumericDate(now),
		ExpiresAt:       newNumericDate(now.Add(ttl)),
		CognitoUsername: username,
		Groups:          groups,
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(key))
}

// Cognito verifies the tokens (ID or access) of a Cognito user pool's app
// client against the pool's published keys.
type Cognito struct {
	issuer      string
	clientID    string
	keys        *jwks
	parser      *jwt.Parser
	validator   *jwt.Validator
	maxLifetime time.Duration
	now         func() time.Time
}

// CognitoURLs are the issuer of a user pool's tokens and the URL of its
// key set.
func CognitoURLs(region, poolID string) (issuer, jwksURL string) {
	issuer = fmt.Sprintf("https://cognito-idp.%s.amazonaws.com/%s", region, poolID)
	return issuer, issuer + "/.well-known/jwks.json"
}

// CognitoConfig says which tokens a Cognito authenticator accepts.
type CognitoConfig struct {
	// Issuer and JWKSURL are the pool's (CognitoURLs).
	Issuer, JWKSURL string
	// ClientID is the app client the tokens must be issued to.
	ClientID string
	// MaxLifetime bounds a token's exp − iat; DefaultMaxLifetime for 0.
	MaxLifetime time.Duration
	// HTTPClient fetches the keys; nil for one with a 5 s timeout.
	HTTPClient *http.Client
	// Logger receives key fetch failures; nil for slog.Default().
	Logger *slog.Logger
}

// NewCognito verifies tokens issued by cfg.Issuer for cfg.ClientID, with
// the keys published at cfg.JWKSURL. It fetches them once before returning
// (a failure is logged, and retried as tokens arrive), and refreshes them
// in the background until ctx ends.
func NewCognito(ctx context.Context, cfg CognitoConfig) (*Cognito, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	keys, err := newJWKS(ctx, cfg.JWKSURL, cfg.HTTPClient, log, jwksUnknownKIDInterval)
	if err != nil {
		return nil, err
	}
	issuer := cfg.Issuer
	return &Cognito{
		issuer:   issuer,
		clientID: cfg.ClientID,
		keys:     keys,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
			jwt.WithIssuer(issuer),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(leeway),
		),
		validator:   jwt.NewValidator(jwt.WithIssuer(issuer), jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(leeway)),
		maxLifetime: lifetime(cfg.MaxLifetime),
		now:         time.Now,
	}, nil
}

// Authenticate checks everything it can before the key: the signature is
// there and long enough for an RS256 key, and the claims (issuer, dates,
// lifetime, token use, app client) are acceptable. Only then may a key ID
// the cache does not know trigger a fetch of the key set — and that at
// most once per jwksUnknownKIDInterval. The signature is verified last,
// with the key (alg "none" never gets this far: the parser takes RS256
// only).
func (a *Cognito) Authenticate(ctx context.Context, token string) (babysitter.Actor, error) {
	var c claims
	var username string
	_, err := a.parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		if len(t.Signature) < minRSABits/8 {
			return nil, errors.New("the token has no RS256 signature")
		}
		var err error
		if username, err = a.checkClaims(&c); err != nil {
			return nil, err
		}
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("the token has no key ID (kid)")
		}
		return a.keys.key(ctx, t, kid)
	})
	if errors.Is(err, ErrKeysUnavailable) {
		return babysitter.Actor{}, err
	}
	if err != nil {
		return babysitter.Actor{}, unauthenticated("invalid token: %v", err)
	}
	return actorFrom(username, c.Subject, c.Groups)
}

// checkClaims checks the claims of a Cognito token and returns its
// username. The audience check depends on the kind of token: an ID token
// names the app client as its audience, an access token in client_id.
func (a *Cognito) checkClaims(c *claims) (string, error) {
	if err := a.validator.Validate(c); err != nil {
		return "", err
	}
	if err := c.checkTimes(a.now(), a.maxLifetime); err != nil {
		return "", err
	}
	if c.Subject == "" {
		// Cognito always sets it; without it the account could not be
		// told from another identity given the same username later.
		return "", errors.New("the token has no subject (sub)")
	}
	switch c.TokenUse {
	case "id":
		if !slices.Contains(c.Audience, a.clientID) {
			return "", errors.New("the ID token is for another app client")
		}
		return c.CognitoUsername, nil
	case "access":
		if c.ClientID != a.clientID {
			return "", errors.New("the access token is for another app client")
		}
		return c.Username, nil
	default:
		return "", fmt.Errorf("token_use must be id or access, not %q", c.TokenUse)
	}
}
