// Package ddbtest has SDK middleware for tests and benchmarks of DynamoDB
// code: a CallCounter that counts calls and attempts per operation, an
// ItemCounter that counts the items Queries and Scans read, and Faults that
// fail chosen attempts the way a flaky network or a throttled table does.
//
// Both plug into a client as API options:
//
//	var calls ddbtest.CallCounter
//	client := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
//		o.APIOptions = append(o.APIOptions, calls.Register)
//	})
package ddbtest

import (
	"context"
	"maps"
	"sort"
	"strconv"
	"strings"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// CallCounter counts API calls and attempts per operation name
// ("GetItem", "TransactWriteItems" …). A call is one client method call
// (what the code asked for); attempts include the SDK's retries (what went
// over the wire).
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
}

// Register is an API option (func(*middleware.Stack) error) that adds the
// counting middleware to a client's or a call's stack.
func (c *CallCounter) Register(stack *middleware.Stack) error {
	if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("ddbtest.CountCalls",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.inc(&c.calls, awsmiddleware.GetOperationName(ctx))
			return next.HandleInitialize(ctx, in)
		}), middleware.Before); err != nil {
		return err
	}
	// Finalize, after the retry middleware: once per attempt.
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("ddbtest.CountAttempts",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			c.inc(&c.attempts, awsmiddleware.GetOperationName(ctx))
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}

func (c *CallCounter) inc(m *map[string]int, op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if *m == nil {
		*m = map[string]int{}
	}
	(*m)[op]++
}

// Calls returns the calls per operation since the last Reset.
func (c *CallCounter) Calls() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(nonNil(c.calls))
}

// Attempts returns the attempts per operation since the last Reset.
func (c *CallCounter) Attempts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(nonNil(c.attempts))
}

// Total is the number of calls since the last Reset.
func (c *CallCounter) Total() int {
	n := 0
	for _, v := range c.Calls() {
		n += v
	}
	return n
}

// Reset sets every count to zero.
func (c *CallCounter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls, c.attempts = nil, nil
}

// String lists the calls, e.g. "BatchGetItem=1 TransactWriteItems=1".
func (c *CallCounter) String() string { return Format(c.Calls()) }

// Format writes counts as "Op=n" sorted by operation.
func Format(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strconv.Itoa(m[k]))
	}
	return b.String()
}

func nonNil(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}

// ItemCounter counts the items that Query and Scan calls read (their
// ScannedCount: what read capacity is charged for, before any filter) and
// returned (Count), summed over calls and pages. It is how a test shows
// that a read's work grows with what it looks for, not with the table. The
// zero value is ready; it is safe for concurrent use.
type ItemCounter struct {
	mu                      sync.Mutex
	calls, scanned, results int
}

// Register is an API option adding the counting middleware to a client's
// or a call's stack.
func (c *ItemCounter) Register(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("ddbtest.CountItems",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			var scanned, count int32
			switch r := out.Result.(type) {
			case *dynamodb.QueryOutput:
				scanned, count = r.ScannedCount, r.Count
			case *dynamodb.ScanOutput:
				scanned, count = r.ScannedCount, r.Count
			default:
				return out, md, err
			}
			c.mu.Lock()
			c.calls++
			c.scanned += int(scanned)
			c.results += int(count)
			c.mu.Unlock()
			return out, md, err
		}), middleware.After)
}

// Calls is the number of Query and Scan calls that returned since the last
// Reset.
func (c *ItemCounter) Calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

// Scanned is the number of items read since the last Reset.
func (c *ItemCounter) Scanned() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.scanned
}

// Returned is the number of items returned (after filters) since the last
// Reset.
func (c *ItemCounter) Returned() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.results
}

// Reset sets every count to zero.
func (c *ItemCounter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls, c.scanned, c.results = 0, 0, 0
}

// When a fault strikes an attempt.
type When int

const (
	// BeforeSend fails the attempt before the request leaves: the server
	// never sees it (a throttled request, a connection refused).
	BeforeSend When = iota
	// AfterCommit sends the request, lets the server apply it, then
	// discards the response and fails the attempt: the write happened but
	// the client does not know (a timeout, a dropped connection). The SDK's
	// retry sends the same request again.
	AfterCommit
)

// Faults fails the first N attempts of chosen operations with a retryable
// error: ThrottlingException (an API error the standard retryer retries).
// Add Register to a client's APIOptions; set N per operation with Fail. It
// is safe for concurrent use.
type Faults struct {
	mu   sync.Mutex
	left map[string]int
	when map[string]When
	hit  map[string]int
}

// Fail makes the next n attempts of operation op fail, at when.
func (f *Faults) Fail(op string, n int, when When) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.left == nil {
		f.left, f.when, f.hit = map[string]int{}, map[string]When{}, map[string]int{}
	}
	f.left[op] = n
	f.when[op] = when
}

// Injected is how many faults were injected into op.
func (f *Faults) Injected(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hit[op]
}

// take reports whether this attempt of op fails, and when.
func (f *Faults) take(op string) (bool, When) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.left[op] <= 0 {
		return false, 0
	}
	f.left[op]--
	f.hit[op]++
	return true, f.when[op]
}

func (f *Faults) giveBack(op string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.left[op]++
	f.hit[op]--
}

// Register is an API option adding the fault middleware inside the SDK's
// retry loop (the end of the Finalize step, after signing).
func (f *Faults) Register(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("ddbtest.Faults",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			op := awsmiddleware.GetOperationName(ctx)
			fail, when := f.take(op)
			if !fail {
				return next.HandleFinalize(ctx, in)
			}
			if when == AfterCommit {
				out, md, err := next.HandleFinalize(ctx, in)
				if err != nil {
					f.giveBack(op) // it failed by itself: nothing to fake
					return out, md, err
				}
			}
			return middleware.FinalizeOutput{}, middleware.Metadata{}, &smithy.GenericAPIError{
				Code:    "ThrottlingException",
				Message: "ddbtest: injected fault (" + op + ")",
				Fault:   smithy.FaultServer,
			}
		}), middleware.After)
}
