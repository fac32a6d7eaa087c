// Package sqstest has SDK middleware for tests and benchmarks of SQS code: a
// CallCounter that counts calls and attempts per operation and records what
// each SendMessageBatch carried, Faults that fail chosen attempts the way a
// throttled or failing service does, and EntryFaults that make
// SendMessageBatch report chosen entries as failed, as SQS does for partial
// batch failures.
//
// Each plugs into a client as an API option:
//
//	var calls sqstest.CallCounter
//	client := sqs.NewFromConfig(cfg, func(o *sqs.Options) {
//		o.APIOptions = append(o.APIOptions, calls.Register)
//	})
package sqstest

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// FastRetries is a client option for tests: the SDK's standard retryer —
// its own rules for what is retryable — with maxAttempts attempts and short
// backoffs (up to 50ms instead of the standard 1s base for throttling), so
// injected faults cost milliseconds. Retry quotas are off: a test that
// injects hundreds of faults must not exhaust the client's token bucket.
func FastRetries(maxAttempts int) func(*sqs.Options) {
	return func(o *sqs.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = maxAttempts
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) {
				return time.Millisecond + rand.N(50*time.Millisecond), nil
			})
			so.RateLimiter = ratelimit.None
		})
	}
}

// ---- counting ----

// CallCounter counts API calls and attempts per operation name
// ("SendMessageBatch", "ReceiveMessage" …) and records the message bodies of
// each SendMessageBatch call. A call is one client method call (what the
// code asked for); attempts include the SDK's retries (what went over the
// wire).
//
// Assert on calls. Attempts depend on the machine as well as on the code:
// the SDK retries a request that timed out or was throttled, which a
// loaded test machine does now and then. Assert on attempts only where a
// retry is what the test is about, and then as a lower bound (each injected
// fault adds at least one attempt). The zero value is ready; it is safe for
// concurrent use.
type CallCounter struct {
	mu       sync.Mutex
	calls    map[string]int
	attempts map[string]int
	batches  [][]string
}

// Register is an API option that adds the counting middleware to a
// client's or a call's stack. It sees each call as the caller made it,
// before other API options (such as EntryFaults) change it.
func (c *CallCounter) Register(stack *middleware.Stack) error {
	if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("sqstest.CountCalls",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			inc(&c.calls, awsmiddleware.GetOperationName(ctx))
			if p, ok := in.Parameters.(*sqs.SendMessageBatchInput); ok {
				bodies := make([]string, len(p.Entries))
				for i, e := range p.Entries {
					bodies[i] = aws.ToString(e.MessageBody)
				}
				c.batches = append(c.batches, bodies)
			}
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.Before); err != nil {
		return err
	}
	// Finalize, right after the retry middleware: once per attempt, ahead
	// of anything (such as Faults) that may fail the attempt.
	attempts := middleware.FinalizeMiddlewareFunc("sqstest.CountAttempts",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			inc(&c.attempts, awsmiddleware.GetOperationName(ctx))
			c.mu.Unlock()
			return next.HandleFinalize(ctx, in)
		})
	if _, ok := stack.Finalize.Get(retryID); ok {
		return stack.Finalize.Insert(attempts, retryID, middleware.After)
	}
	return stack.Finalize.Add(attempts, middleware.After)
}

// retryID is the ID of the SDK's retry middleware.
const retryID = "Retry"

func inc(m *map[string]int, op string) {
	if *m == nil {
		*m = map[string]int{}
	}
	(*m)[op]++
}

// Calls returns the calls per operation since the last Reset.
func (c *CallCounter) Calls() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return nonNil(maps.Clone(c.calls))
}

// Attempts returns the attempts per operation since the last Reset.
func (c *CallCounter) Attempts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return nonNil(maps.Clone(c.attempts))
}

// Batches returns the message bodies of each SendMessageBatch call since
// the last Reset, in call order.
func (c *CallCounter) Batches() [][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([][]string, len(c.batches))
	for i, b := range c.batches {
		out[i] = slices.Clone(b)
	}
	return out
}

// Reset sets every count to zero.
func (c *CallCounter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls, c.attempts, c.batches = nil, nil, nil
}

// String lists the calls, e.g. "ReceiveMessage=3 SendMessageBatch=1".
func (c *CallCounter) String() string { return Format(c.Calls()) }

// Format writes counts as "Op=n" sorted by operation.
func Format(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func nonNil(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}

// ---- failing attempts ----

// Kind is the error an injected fault returns.
type Kind int

const (
	// Throttle fails with SQS's RequestThrottled (HTTP 400), which the
	// SDK's standard retryer treats as throttling.
	Throttle Kind = iota
	// ServerError fails with an HTTP 503 ServiceUnavailable.
	ServerError
)

// When a fault strikes an attempt.
type When int

const (
	// BeforeSend fails the attempt before the request leaves: the server
	// never sees it (a throttled request, a refused connection).
	BeforeSend When = iota
	// AfterCommit sends the request, lets the server apply it, then
	// discards the response and fails the attempt: the server acted but
	// the client does not know (a dropped connection, a lost response).
	// The SDK's retry sends the same request again: a SendMessageBatch
	// then sends its messages twice, a ReceiveMessage leaves the messages
	// it took hidden until their visibility timeout.
	AfterCommit
)

// Fault is what an injected failure looks like.
type Fault struct {
	Kind Kind
	When When
}

// Faults fails chosen attempts of chosen operations. Register it as an API
// option; it sits inside the SDK's retry loop, so the client's retryer sees
// each fault as the failure of one attempt. It is safe for concurrent use.
type Faults struct {
	mu    sync.Mutex
	rules map[string]*faultRule
	hit   map[string]int
}

// faultRule: the next left attempts fail with first; after them, every
// every-th attempt fails with periodic (every 0: none).
type faultRule struct {
	left     int
	first    Fault
	every    int
	periodic Fault
	seen     int
}

// Fail makes the next n attempts of operation op fail with fault. It
// combines with FailEvery: those n come first.
func (f *Faults) Fail(op string, n int, fault Fault) {
	f.update(op, func(r *faultRule) { r.left, r.first = n, fault })
}

// FailEvery makes every k-th attempt of operation op fail with fault, until
// Clear. It combines with Fail.
func (f *Faults) FailEvery(op string, k int, fault Fault) {
	f.update(op, func(r *faultRule) { r.every, r.periodic, r.seen = k, fault, 0 })
}

// Clear stops injecting faults into op.
func (f *Faults) Clear(op string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.rules, op)
}

func (f *Faults) update(op string, fn func(*faultRule)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rules == nil {
		f.rules, f.hit = map[string]*faultRule{}, map[string]int{}
	}
	r := f.rules[op]
	if r == nil {
		r = &faultRule{}
		f.rules[op] = r
	}
	fn(r)
}

// Injected is how many faults were injected into op.
func (f *Faults) Injected(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hit[op]
}

// take reports whether this attempt of op fails, and how.
func (f *Faults) take(op string) (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.rules[op]
	if r == nil {
		return Fault{}, false
	}
	if r.left > 0 {
		r.left--
		f.hit[op]++
		return r.first, true
	}
	r.seen++
	if r.every > 0 && r.seen%r.every == 0 {
		f.hit[op]++
		return r.periodic, true
	}
	return Fault{}, false
}

// Register is an API option adding the fault middleware inside the SDK's
// retry loop (the end of the Finalize step, after signing).
func (f *Faults) Register(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("sqstest.Faults",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			op := awsmiddleware.GetOperationName(ctx)
			fault, fail := f.take(op)
			if !fail {
				return next.HandleFinalize(ctx, in)
			}
			if fault.When == AfterCommit {
				out, md, err := next.HandleFinalize(ctx, in)
				if err != nil {
					return out, md, err // it failed by itself: nothing to fake
				}
			}
			return middleware.FinalizeOutput{}, middleware.Metadata{}, injected(op, fault.Kind)
		}), middleware.After)
}

// injected builds the error the SDK's deserializer would return for such a
// response: the API error inside an HTTP response error.
func injected(op string, k Kind) error {
	status, apiErr := http.StatusBadRequest, error(&types.RequestThrottled{
		Message: aws.String("sqstest: injected throttling (" + op + ")"),
	})
	if k == ServerError {
		status, apiErr = http.StatusServiceUnavailable, &smithy.GenericAPIError{
			Code:    "ServiceUnavailable",
			Message: "sqstest: injected 503 (" + op + ")",
			Fault:   smithy.FaultServer,
		}
	}
	return &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: http.Header{}}},
			Err:      apiErr,
		},
		RequestID: "sqstest-injected",
	}
}

// ---- failing batch entries ----

// EntryFaults makes SendMessageBatch report chosen entries as failed, as
// SQS does for a partial batch failure: those entries are taken out of the
// request before it is sent — the server never sees them — and added to
// the response's Failed list. Every other entry is sent for real. Register
// it as an API option. It is safe for concurrent use.
type EntryFaults struct {
	mu    sync.Mutex
	rules map[string]*entryRule // by message body
	hit   int
}

type entryRule struct {
	left        int // attempts still to fail; <0 forever
	senderFault bool
}

// Fail makes the next n sends of the message with this body fail (n < 0:
// every send), reported with SenderFault = senderFault.
func (f *EntryFaults) Fail(body string, n int, senderFault bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rules == nil {
		f.rules = map[string]*entryRule{}
	}
	f.rules[body] = &entryRule{left: n, senderFault: senderFault}
}

// Injected is how many entry failures were reported.
func (f *EntryFaults) Injected() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hit
}

// take reports whether this send of body fails, and whose fault it is.
func (f *EntryFaults) take(body string) (fail, senderFault bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.rules[body]
	if r == nil || r.left == 0 {
		return false, false
	}
	if r.left > 0 {
		r.left--
	}
	f.hit++
	return true, r.senderFault
}

// Register is an API option adding the middleware at the end of the
// Initialize step: after the caller's input was validated, around the
// SDK's retries of the remaining entries.
func (f *EntryFaults) Register(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("sqstest.EntryFaults",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			p, ok := in.Parameters.(*sqs.SendMessageBatchInput)
			if !ok {
				return next.HandleInitialize(ctx, in)
			}
			var keep []types.SendMessageBatchRequestEntry
			var failed []types.BatchResultErrorEntry
			for _, e := range p.Entries {
				fail, sender := f.take(aws.ToString(e.MessageBody))
				if !fail {
					keep = append(keep, e)
					continue
				}
				code := "InternalError"
				if sender {
					code = "InvalidMessageContents"
				}
				failed = append(failed, types.BatchResultErrorEntry{
					Id:          e.Id,
					Code:        aws.String(code),
					Message:     aws.String("sqstest: injected entry failure"),
					SenderFault: sender,
				})
			}
			if len(failed) == 0 {
				return next.HandleInitialize(ctx, in)
			}
			out := &sqs.SendMessageBatchOutput{}
			var md middleware.Metadata
			if len(keep) > 0 {
				cp := *p
				cp.Entries = keep
				in.Parameters = &cp
				res, meta, err := next.HandleInitialize(ctx, in)
				if err != nil {
					return res, meta, err
				}
				out, md = res.Result.(*sqs.SendMessageBatchOutput), meta
			}
			out.Failed = append(out.Failed, failed...)
			return middleware.InitializeOutput{Result: out}, md, nil
		}), middleware.After)
}
