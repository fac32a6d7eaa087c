package dynamodb

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
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
//     more (not found, forbidden, not PENDING) call the root package's Check
//     function on the item the failure returned before calling mapError.
//   - TransactionCanceledException → ErrConflict, after the caller has read
//     its reasons by action name (txCanceled); TransactionConflictException
//     and a TransactionConflict reason (another transaction held an item)
//     → ErrConflict.
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
		for _, r := range canceled.CancellationReasons {
			if aws.ToString(r.Code) == reasonTxConflict {
				msg = "transaction canceled by a concurrent transaction"
			}
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

// gaveUp is the ErrConflict after a bounded number of attempts lost to
// concurrent changes (see retry): a backend condition, not a domain rule.
func gaveUp(op string, attempts int, err error) error {
	return &babysitter.Error{Kind: babysitter.ErrConflict, Op: op, Msg: fmt.Sprintf("still contended after %d attempts", attempts), Err: err}
}
