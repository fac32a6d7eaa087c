package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/babysitter-go/babysitter"
)

// authenticator verifies a bearer token and returns the actor it names.
// Errors are ErrUnauthenticated (a bad token) or errKeysUnavailable (the
// server cannot verify anything right now).
type authenticator interface {
	authenticate(ctx context.Context, token string) (babysitter.Actor, error)
}

// claims are the JWT claims the server reads: Cognito's names, which the
// development tokens use too, so a client sees one shape in both modes.
type claims struct {
	jwt.RegisteredClaims
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

// roleFromGroups picks the actor's role from its groups. When a user is in
// several, the most privileged wins, so adding someone to "admin" works
// without removing them from their other groups. Unknown groups are
// ignored; no known group means no role, which every role check refuses.
func roleFromGroups(groups []string) babysitter.Role {
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

// actorFrom turns verified claims into an actor. A username the library
// would refuse as a key is refused here, once, rather than in every
// operation.
func actorFrom(username string, groups []string) (babysitter.Actor, error) {
	if !babysitter.ValidUsername(username) {
		return babysitter.Actor{}, unauthenticated("the token's username %q is not a valid username", username)
	}
	return babysitter.Actor{Username: username, Role: roleFromGroups(groups)}, nil
}

// bearerToken extracts the token of an "Authorization: Bearer" header;
// ok is false when there is no Authorization header at all.
func bearerToken(r *http.Request) (token string, ok bool, err error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false, nil
	}
	scheme, token, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", true, unauthenticated(`the Authorization header must be "Bearer <token>"`)
	}
	return strings.TrimSpace(token), true, nil
}

// devIssuer is the issuer of development tokens, checked on verification
// so that a token minted for some other purpose with the same key does not
// pass for one of ours.
const devIssuer = "babysitter-dev"

// leeway tolerates clock skew between the token issuer and this server.
const leeway = 30 * time.Second

// hs256Auth verifies development tokens signed with a shared key.
type hs256Auth struct {
	key    []byte
	parser *jwt.Parser
}

func newHS256Auth(key string) *hs256Auth {
	return &hs256Auth{
		key: []byte(key),
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithIssuer(devIssuer),
			jwt.WithExpirationRequired(),
			jwt.WithLeeway(leeway),
		),
	}
}

func (a *hs256Auth) authenticate(_ context.Context, token string) (babysitter.Actor, error) {
	var c claims
	if _, err := a.parser.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return a.key, nil }); err != nil {
		return babysitter.Actor{}, unauthenticated("invalid token: %v", err)
	}
	username := c.CognitoUsername
	if username == "" {
		username = c.Subject
	}
	return actorFrom(username, c.Groups)
}

// mintDevToken signs a development token for username in groups, valid for
// ttl from now. It is what the token subcommand prints and what the tests
// use, so both exercise the exact claims the server verifies.
func mintDevToken(key, username string, groups []string, ttl time.Duration, now time.Time) (string, error) {
	if !babysitter.ValidUsername(username) {
		return "", fmt.Errorf("user %q: want 3 to 32 characters of a-z, 0-9, '_', '.', '-'", username)
	}
	for _, g := range groups {
		if roleFromGroups([]string{g}) == "" {
			return "", fmt.Errorf("group %q: want admin, parent or nanny", g)
		}
	}
	if ttl <= 0 {
		return "", errors.New("the ttl must be positive")
	}
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    devIssuer,
			Subject:   username,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		CognitoUsername: username,
		Groups:          groups,
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(key))
}

// cognitoAuth verifies Cognito user pool tokens (ID or access) against the
// pool's published keys.
type cognitoAuth struct {
	issuer   string
	clientID string
	keys     *jwks
	parser   *jwt.Parser
}

// newCognitoAuth verifies tokens of the pool in region for clientID.
func newCognitoAuth(region, poolID, clientID string, client *http.Client) *cognitoAuth {
	issuer := fmt.Sprintf("https://cognito-idp.%s.amazonaws.com/%s", region, poolID)
	return newCognitoAuthAt(issuer, issuer+"/.well-known/jwks.json", clientID, client)
}

// newCognitoAuthAt is newCognitoAuth with the issuer and key URL spelt out,
// for tests that serve their own keys.
func newCognitoAuthAt(issuer, jwksURL, clientID string, client *http.Client) *cognitoAuth {
	return &cognitoAuth{
		issuer:   issuer,
		clientID: clientID,
		keys:     newJWKS(jwksURL, client),
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
			jwt.WithIssuer(issuer),
			jwt.WithExpirationRequired(),
			jwt.WithLeeway(leeway),
		),
	}
}

func (a *cognitoAuth) authenticate(ctx context.Context, token string) (babysitter.Actor, error) {
	var c claims
	_, err := a.parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("the token has no key ID (kid)")
		}
		return a.keys.key(ctx, kid)
	})
	if errors.Is(err, errKeysUnavailable) {
		return babysitter.Actor{}, err
	}
	if err != nil {
		return babysitter.Actor{}, unauthenticated("invalid token: %v", err)
	}
	// The audience check depends on the kind of token: an ID token names
	// the app client as its audience, an access token in client_id.
	var username string
	switch c.TokenUse {
	case "id":
		if !slices.Contains(c.Audience, a.clientID) {
			return babysitter.Actor{}, unauthenticated("invalid token: the ID token is for another app client")
		}
		username = c.CognitoUsername
	case "access":
		if c.ClientID != a.clientID {
			return babysitter.Actor{}, unauthenticated("invalid token: the access token is for another app client")
		}
		username = c.Username
	default:
		return babysitter.Actor{}, unauthenticated("invalid token: token_use must be id or access, not %q", c.TokenUse)
	}
	return actorFrom(username, c.Groups)
}
