package appsync

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/lambda/messages"

	"github.com/babysitter-go/babysitter"
)

// The GraphQL errorTypes this API returns, one per error kind of the
// library, plus RateLimited (the Router's write limit) and InternalError.
// Clients branch on them.
const (
	TypeNotFound        = "NotFound"
	TypeAlreadyExists   = "AlreadyExists"
	TypeInvalidInput    = "InvalidInput"
	TypeForbidden       = "Forbidden"
	TypeUnauthenticated = "Unauthenticated"
	TypeConflict        = "Conflict"
	TypeRateLimited     = "RateLimited"
	TypeInternalError   = "InternalError"
)

// internalMessage is all a client learns of an unexpected failure; the
// real error is logged with the request id.
const internalMessage = "internal error"

// Error is a resolver failure as the client sees it: the GraphQL errorType,
// a message, and for batch responses structured errorInfo.
type Error struct {
	Type    string
	Message string
	// Info is errorInfo: the offending fields of invalid input, the taken
	// field of AlreadyExists. AppSync only carries it for batch items (a
	// failed single invocation has just errorType and errorMessage).
	Info any
	// Err is the error the Service returned, for logs.
	Err error
}

// Error implements the error interface.
func (e *Error) Error() string { return e.Type + ": " + e.Message }

// Unwrap returns the cause, for errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Err }

// InvokeError is the Lambda function error AppSync turns into a GraphQL
// error: aws-lambda-go sends a returned messages.InvokeResponse_Error as
// is (lambdaErrorResponse type-asserts it), so errorType is e.Type instead
// of the Go type name of the error.
func (e *Error) InvokeError() messages.InvokeResponse_Error {
	return messages.InvokeResponse_Error{Type: e.Type, Message: e.Message}
}

// FieldsInfo is the errorInfo of an InvalidInput error: every offending
// field, under the name the HTTP API's problem details use ("errors").
type FieldsInfo struct {
	Errors []babysitter.FieldError `json:"errors"`
}

// FieldInfo is the errorInfo of an AlreadyExists error: the taken field,
// as in the HTTP API's problem details ("field").
type FieldInfo struct {
	Field string `json:"field"`
}

// ToError classifies an error of the Service by kind. requestID goes into
// the message of an InternalError so that a client can quote it.
func ToError(err error, requestID string) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var invalid *babysitter.InvalidInputError
	if errors.As(err, &invalid) {
		return &Error{Type: TypeInvalidInput, Message: invalid.Error(), Info: FieldsInfo{Errors: invalid.Fields}, Err: err}
	}
	var exists *babysitter.AlreadyExistsError
	if errors.As(err, &exists) {
		return &Error{Type: TypeAlreadyExists, Message: exists.Error(), Info: FieldInfo{Field: string(exists.Field)}, Err: err}
	}
	kinds := []struct {
		kind error
		typ  string
	}{
		{babysitter.ErrNotFound, TypeNotFound},
		{babysitter.ErrAlreadyExists, TypeAlreadyExists},
		{babysitter.ErrInvalidInput, TypeInvalidInput},
		{babysitter.ErrForbidden, TypeForbidden},
		{babysitter.ErrUnauthenticated, TypeUnauthenticated},
		{babysitter.ErrConflict, TypeConflict},
	}
	for _, k := range kinds {
		if errors.Is(err, k.kind) {
			return &Error{Type: k.typ, Message: publicMessage(err, k.kind), Err: err}
		}
	}
	msg := internalMessage
	if requestID != "" {
		msg = fmt.Sprintf("%s (request %s)", internalMessage, requestID)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		msg = "timed out; " + msg
	}
	return &Error{Type: TypeInternalError, Message: msg, Err: err}
}

// publicMessage is the message of a domain error without the operation
// prefix and without the cause a backend attached (an SDK message is for
// the logs, not for clients).
func publicMessage(err, kind error) string {
	var e *babysitter.Error
	if errors.As(err, &e) && e.Kind == kind {
		if e.Msg == "" {
			return kind.Error()
		}
		return kind.Error() + ": " + e.Msg
	}
	return kind.Error()
}
