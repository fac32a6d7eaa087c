package dynamodb

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/babysitter-go/babysitter"
)

// ErrTableNotFound matches the error of any call made while the table (or
// an index) does not exist: a deployment or configuration problem, not a
// domain ErrNotFound. The SDK's ResourceNotFoundException stays reachable
// with errors.As.
var ErrTableNotFound = errors.New("dynamodb: table not found")

// tableError is a backend failure about the table itself.
type tableError struct {
	op, table string
	err       error
}

func (e *tableError) Error() string {
	return fmt.Sprintf("%s: dynamodb table %q not found (create it with CreateTable or deploy the template): %v", e.op, e.table, e.err)
}

func (e *tableError) Unwrap() []error { return []error{ErrTableNotFound, e.err} }

// Cancellation reason codes of TransactionCanceledException.
const (
	reasonNone             = "None"
	reasonConditionFailed  = "ConditionalCheckFailed"
	reasonTxConflict       = "TransactionConflict"
	reasonThrottled        = "ThrottlingError"
	reasonProvisionedLimit = "ProvisionedThroughputExceeded"
)

// mapError is the one place SDK errors become the domain's error kinds; op
// names the Store method. The cause stays reachable with errors.As.
//
//   - ConditionalCheckFailedException → ErrConflict. Callers that can say
//     more (not found, forbidden, not PENDING) look at the item the failure
//     returned before calling mapError.
//   - TransactionCanceledException → ErrConflict, after the caller has read
//     its reasons by item index; TransactionConflictException and a
//     TransactionConflict reason (another transaction held an item) →
//     ErrConflict.
//   - ResourceNotFoundException → ErrTableNotFound, never ErrNotFound: a
//     missing table is not a missing user.
//   - Anything else (throttling after the SDK's retries, validation errors,
//     network failures, context cancellation) is wrapped as it is, matching
//     no domain kind.
func (s *Store) mapError(op string, err error) error {
	if err == nil {
		return nil
	}
	var (
		ccf      *types.ConditionalCheckFailedException
		canceled *types.TransactionCanceledException
		conflict *types.TransactionConflictException
		notFound *types.ResourceNotFoundException
		decode   *DecodeError
		domain   *babysitter.Error
		exists   *babysitter.AlreadyExistsError
	)
	switch {
	case errors.As(err, &domain), errors.As(err, &exists):
		return err // already mapped
	case errors.As(err, &decode):
		return fmt.Errorf("%s: %w", op, err)
	case errors.As(err, &ccf):
		return &babysitter.Error{Kind: babysitter.ErrConflict, Op: op, Msg: "a condition failed (concurrent change)", Err: err}
	case errors.As(err, &canceled):
		msg := "transaction canceled"
		if hasReason(canceled.CancellationReasons, reasonTxConflict) {
			msg = "transaction canceled by a concurrent transaction"
		}
		return &babysitter.Error{Kind: babysitter.ErrConflict, Op: op, Msg: msg, Err: err}
	case errors.As(err, &conflict):
		return &babysitter.Error{Kind: babysitter.ErrConflict, Op: op, Msg: "concurrent transaction", Err: err}
	case errors.As(err, &notFound):
		return &tableError{op: op, table: s.table, err: err}
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return fmt.Errorf("%s: dynamodb %s: %w", op, api.ErrorCode(), err)
	}
	return fmt.Errorf("%s: dynamodb: %w", op, err)
}

// cancellation returns the reasons of a canceled transaction, one per
// item in request order, or nil when err is not a cancellation.
func cancellation(err error) []types.CancellationReason {
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		return canceled.CancellationReasons
	}
	return nil
}

// reasonAt is the code of the i-th item's cancellation reason ("" when
// there is none).
func reasonAt(reasons []types.CancellationReason, i int) string {
	if i < 0 || i >= len(reasons) || reasons[i].Code == nil {
		return ""
	}
	return *reasons[i].Code
}

// failedAt reports whether the i-th item's condition failed.
func failedAt(reasons []types.CancellationReason, i int) bool {
	return reasonAt(reasons, i) == reasonConditionFailed
}

func hasReason(reasons []types.CancellationReason, code string) bool {
	for i := range reasons {
		if reasonAt(reasons, i) == code {
			return true
		}
	}
	return false
}

// retryable reports whether a transaction was canceled only because other
// transactions (or capacity) got in the way: trying again may succeed.
// A failed condition is never retryable.
func retryable(err error) bool {
	var conflict *types.TransactionConflictException
	if errors.As(err, &conflict) {
		return true
	}
	reasons := cancellation(err)
	if reasons == nil || hasReason(reasons, reasonConditionFailed) {
		return false
	}
	return hasReason(reasons, reasonTxConflict) || hasReason(reasons, reasonThrottled) || hasReason(reasons, reasonProvisionedLimit)
}

// Domain errors, worded like store/memory's.

func userNotFound(username string) error {
	return babysitter.Errorf(babysitter.ErrNotFound, "user %q", username)
}

func jobNotFound(id string) error {
	return babysitter.Errorf(babysitter.ErrNotFound, "job %q", id)
}

func appNotFound(jobID, id string) error {
	return babysitter.Errorf(babysitter.ErrNotFound, "application %q of job %q", id, jobID)
}

func notOwner(owner, jobID string) error {
	return babysitter.Errorf(babysitter.ErrForbidden, "job %q is not %q's", jobID, owner)
}

func jobNotIn(j babysitter.Job, want babysitter.JobStatus) error {
	return babysitter.Errorf(babysitter.ErrConflict, "job %q is %s, not %s", j.ID, j.Status, want)
}

func appNotPending(a babysitter.Application) error {
	return babysitter.Errorf(babysitter.ErrConflict, "application %q is %s, not PENDING", a.ID, a.Status)
}

// gaveUp is the ErrConflict after a bounded number of attempts lost to
// concurrent transactions.
func gaveUp(op string, attempts int, err error) error {
	return &babysitter.Error{Kind: babysitter.ErrConflict, Op: op, Msg: fmt.Sprintf("still contended after %d attempts", attempts), Err: err}
}
