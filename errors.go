package babysitter

import (
	"errors"
	"fmt"
	"strings"
)

// The error kinds every caller can branch on with errors.Is. Every error the
// Service returns for a domain reason matches exactly one of them; backend
// failures (network, throttling after retries) match none and keep their
// cause reachable with errors.As.
var (
	// ErrNotFound: the user, job or application does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a unique value is taken; AlreadyExistsError.Field says which.
	ErrAlreadyExists = errors.New("already exists")
	// ErrInvalidInput: the input is malformed; InvalidInputError lists every offending field.
	ErrInvalidInput = errors.New("invalid input")
	// ErrForbidden: the actor is known but may not do this (role, ownership, account status).
	ErrForbidden = errors.New("forbidden")
	// ErrUnauthenticated: the operation needs an identity and the actor is anonymous.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrConflict: the target is in the wrong state (job not OPEN, application
	// not PENDING) or changed concurrently.
	ErrConflict = errors.New("conflict")
)

// Error is the error type behind every kind: Kind is one of the Err* values
// above, Op names the Service operation, Msg says what went wrong and Err,
// when set, is the cause (for example the SDK error a backend mapped).
type Error struct {
	Kind error
	Op   string
	Msg  string
	Err  error
}

// Error implements the error interface.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(e.Kind.Error())
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap exposes both the kind (for errors.Is) and the cause (for errors.As).
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// Errorf returns an *Error of the given kind with a formatted message. A %w
// verb in format makes the wrapped error the cause.
func Errorf(kind error, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	e := &Error{Kind: kind, Msg: err.Error()}
	if u := errors.Unwrap(err); u != nil {
		e.Err = u
		e.Msg = strings.TrimSuffix(strings.TrimSuffix(e.Msg, u.Error()), ": ")
	}
	return e
}

// Field names a unique value for AlreadyExistsError.
type Field string

// The unique values that can collide.
const (
	FieldUsername    Field = "username"
	FieldEmail       Field = "email"
	FieldApplication Field = "application"
	FieldReview      Field = "review"
)

// AlreadyExistsError says which unique value is taken. It matches
// ErrAlreadyExists.
type AlreadyExistsError struct {
	Field Field
	Value string
}

// Error implements the error interface.
func (e *AlreadyExistsError) Error() string {
	return fmt.Sprintf("%s %q already exists", e.Field, e.Value)
}

// Is makes errors.Is(err, ErrAlreadyExists) true.
func (e *AlreadyExistsError) Is(target error) bool { return target == ErrAlreadyExists }

// FieldError is one offending input field. Field uses the JSON name
// (camelCase, dotted for nested values such as "cost.currency").
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// InvalidInputError lists every offending field of an input. It matches
// ErrInvalidInput.
type InvalidInputError struct {
	Fields []FieldError
}

// Error implements the error interface.
func (e *InvalidInputError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalidInput) true.
func (e *InvalidInputError) Is(target error) bool { return target == ErrInvalidInput }

// fieldErrors collects validation failures so one call reports them all.
type fieldErrors []FieldError

func (fe *fieldErrors) add(field, format string, args ...any) {
	*fe = append(*fe, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (fe fieldErrors) err() error {
	if len(fe) == 0 {
		return nil
	}
	return &InvalidInputError{Fields: fe}
}

// invalid is a one-field InvalidInputError.
func invalid(field, format string, args ...any) error {
	var fe fieldErrors
	fe.add(field, format, args...)
	return fe.err()
}
