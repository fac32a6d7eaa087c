package dynamodb

import (
	"context"
	"math/rand/v2"
	"time"
)

// maxAttempts bounds the Store's own retries: of a transaction canceled by
// a concurrent transaction (TransactionConflict), of a read-decide-write
// whose write found the items changed since its read, and of a
// BatchGetItem's unprocessed keys.
const maxAttempts = 8

// again ends one attempt of retry and asks for another; cause says why (it
// is kept as the cause of the error when the attempts run out).
func again(cause error) error { return &againError{cause: cause} }

type againError struct{ cause error }

func (e *againError) Error() string { return "try again: " + e.cause.Error() }
func (e *againError) Unwrap() error { return e.cause }

// retry is the one retry loop of the package (guregu/dynamo's retry.go is
// the idea): it calls attempt until attempt returns anything but again(…)
// — nil, a domain error, a backend error — at most maxAttempts times,
// sleeping a jittered backoff between attempts. When the attempts run out
// it returns gaveUp (ErrConflict, the last cause reachable); when ctx ends
// during a backoff, ctx's error.
//
// Throttling and 5xx responses are not retried here: that is the SDK
// retryer's job, inside each call.
func retry(ctx context.Context, op string, attempt func() error) error {
	for n := 1; ; n++ {
		err := attempt()
		a, ok := err.(*againError)
		if !ok {
			return err
		}
		if n >= maxAttempts {
			return gaveUp(op, n, a.cause)
		}
		if err := backoff(ctx, n); err != nil {
			return err
		}
	}
}

// backoff sleeps before attempt n+1 (n counts from 1): full jitter over an
// exponential window from 10 ms, capped at 200 ms, so contending callers
// spread out instead of colliding again in lockstep.
func backoff(ctx context.Context, n int) error {
	window := min(5*time.Millisecond<<min(n, 10), 200*time.Millisecond)
	t := time.NewTimer(rand.N(window) + time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
