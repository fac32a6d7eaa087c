package httpapi

import (
	"net/http"
	"strings"

	"github.com/babysitter-go/babysitter"
)

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

// unauthenticated is the 401 of a missing or malformed token.
func unauthenticated(format string, args ...any) error {
	return babysitter.Errorf(babysitter.ErrUnauthenticated, format, args...)
}
