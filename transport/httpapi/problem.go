package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/babysitter-go/babysitter"
)

// Problem is the body of every error response: RFC 9457 problem details,
// served as application/problem+json. Code is the stable, machine-readable
// reason clients branch on; Type is a URI for it (the documentation of the
// library's error kind, or about:blank); Title and Detail are for humans
// and may change.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	Code   string `json:"code"`
	// Field names the unique value taken (code already_exists).
	Field babysitter.Field `json:"field,omitempty"`
	// Errors lists every offending input field (code invalid_input).
	Errors []babysitter.FieldError `json:"errors,omitempty"`
	// RequestID is the request's X-Request-Id, to quote in a report.
	RequestID string `json:"requestId,omitempty"`
	// retryAfter is the Retry-After of a 429 or 503.
	retryAfter time.Duration
}

// The HTTP layer's own failures. They join the domain kinds in problemFor,
// so there is a single place that turns an error into a status.
var (
	errUnsupportedMediaType = errors.New("the request body must be application/json")
	errMethodNotAllowed     = errors.New("method not allowed")
	errNoRoute              = errors.New("no such resource")
	// errAuthUnavailable: the Authenticator cannot verify tokens right now
	// (Cognito's keys could not be fetched). It is the server's problem,
	// not the token's: 503, not 401.
	errAuthUnavailable = errors.New("tokens cannot be verified right now")
	// errDraining: a graceful stop has begun (readiness only).
	errDraining = errors.New("the server is shutting down")
	// errNotReady wraps the backend error of a failed readiness check.
	errNotReady = errors.New("the store is unreachable")
)

// rateLimitedError is a write refused by the caller's write limit: the
// client may retry after retryAfter.
type rateLimitedError struct{ retryAfter time.Duration }

func (e *rateLimitedError) Error() string {
	return fmt.Sprintf("too many writes; retry in %v", e.retryAfter.Round(time.Second))
}

// kindType is the problem type of a domain error kind: the documentation of
// the kind, so the type URI says precisely what happened.
func kindType(name string) string {
	return "https://pkg.go.dev/github.com/babysitter-go/babysitter#" + name
}

// domainKinds are the problems of the library's error kinds, by
// babysitter.ErrorType (which is also their code): one classification of
// errors for the API and for telemetry's error.type.
var domainKinds = map[string]struct {
	name, title string
	status      int
}{
	"invalid_input":   {"ErrInvalidInput", "Invalid input", http.StatusBadRequest},
	"unauthenticated": {"ErrUnauthenticated", "Unauthenticated", http.StatusUnauthorized},
	"forbidden":       {"ErrForbidden", "Forbidden", http.StatusForbidden},
	"not_found":       {"ErrNotFound", "Not found", http.StatusNotFound},
	"already_exists":  {"ErrAlreadyExists", "Already exists", http.StatusConflict},
	"conflict":        {"ErrConflict", "Conflict", http.StatusConflict},
}

// kindProblem is the problem of a domain error kind (a domainKinds key).
func kindProblem(errorType, detail string) Problem {
	k := domainKinds[errorType]
	return Problem{Type: kindType(k.name), Title: k.title, Status: k.status, Code: errorType, Detail: detail}
}

// problemFor maps an error to its problem details. It is the only place
// that decides a status code from an error. Server-side failures get a
// generic detail: the real error goes to the log, never to the client.
func problemFor(err error) Problem {
	var (
		exists  *babysitter.AlreadyExistsError
		invalid *babysitter.InvalidInputError
		tooBig  *http.MaxBytesError
		limited *rateLimitedError
	)
	p := Problem{Type: "about:blank"}
	switch {
	case errors.As(err, &tooBig):
		p.Status, p.Code = http.StatusRequestEntityTooLarge, "body_too_large"
		p.Detail = fmt.Sprintf("the request body exceeds %d bytes", tooBig.Limit)
	case errors.Is(err, errUnsupportedMediaType):
		p.Status, p.Code, p.Detail = http.StatusUnsupportedMediaType, "unsupported_media_type", err.Error()
	case errors.Is(err, errMethodNotAllowed):
		p.Status, p.Code = http.StatusMethodNotAllowed, "method_not_allowed"
	case errors.Is(err, errNoRoute):
		p.Status, p.Code = http.StatusNotFound, "not_found"
	case errors.As(err, &limited):
		p.Status, p.Code, p.retryAfter = http.StatusTooManyRequests, "rate_limited", limited.retryAfter
		p.Detail = fmt.Sprintf("too many writes from this caller; retry after %d s", retryAfterSeconds(limited.retryAfter))
	case errors.Is(err, errAuthUnavailable):
		p.Status, p.Code, p.Detail = http.StatusServiceUnavailable, "unavailable", errAuthUnavailable.Error()
	case errors.Is(err, errDraining):
		p.Status, p.Code, p.Detail = http.StatusServiceUnavailable, "unavailable", errDraining.Error()
	case errors.Is(err, errNotReady):
		p.Status, p.Code, p.Detail = http.StatusServiceUnavailable, "unavailable", errNotReady.Error()
	case errors.As(err, &exists):
		p = kindProblem("already_exists", exists.Error())
		p.Field = exists.Field
	case errors.As(err, &invalid):
		p = kindProblem("invalid_input", invalid.Error())
		p.Errors = invalid.Fields
	case domainKinds[babysitter.ErrorType(err)].status != 0:
		p = kindProblem(babysitter.ErrorType(err), domainDetail(err))
	case errors.Is(err, context.DeadlineExceeded):
		p.Status, p.Code, p.Detail = http.StatusServiceUnavailable, "timeout", "the request took too long; retry it"
	default:
		p.Status, p.Code, p.Detail = http.StatusInternalServerError, "internal", "internal error; the server log has the details"
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	return p
}

// domainDetail is the human-readable part of a domain error: the message
// of a *babysitter.Error without its cause (a backend's SDK error is for the
// log, not the client), else the error text.
func domainDetail(err error) string {
	var e *babysitter.Error
	if errors.As(err, &e) && e.Msg != "" && e.Kind != nil {
		return e.Kind.Error() + ": " + e.Msg
	}
	return err.Error()
}

// writeProblem writes p as application/problem+json, with the headers its
// status calls for.
func writeProblem(w http.ResponseWriter, p Problem) {
	h := w.Header()
	switch p.Status {
	case http.StatusUnauthorized:
		// RFC 6750: tell the client which scheme to use.
		h.Set("WWW-Authenticate", `Bearer realm="babysitter"`)
	case http.StatusServiceUnavailable, http.StatusTooManyRequests:
		h.Set("Retry-After", strconv.Itoa(retryAfterSeconds(p.retryAfter)))
	}
	h.Set("Content-Type", "application/problem+json")
	h.Set("X-Content-Type-Options", "nosniff")
	// No problem is for a shared cache, the unrouted 404s and 405s included.
	h.Set("Cache-Control", "private, no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p) // the client may be gone; nothing to do about it
}

// retryAfterSeconds is a Retry-After value: whole seconds, rounded up, at
// least 1.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}
