package dynamodb_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/store/dynamodb/ddbtest"
)

// TestBookingRace has 100 requests book the same job, each with another
// application: exactly one wins, the others get ErrConflict, the parent's
// openJobs counter matches the one booking and the other applications
// stay PENDING. It logs the requests sent and the
// cancellation reasons DynamoDB gave.
func TestBookingRace(t *testing.T) {
	t.Parallel()
	reasons := &reasonLog{codes: map[string]int{}}
	s, calls, client, table := countingStore(t, func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, reasons.register)
	})
	ctx := t.Context()
	n := 100
	if testing.Short() {
		n = 20
	}
	p := newUser(babysitter.UserParent)
	must(t, "CreateUser", s.CreateUser(ctx, p))
	j := newJob(p.Username)
	must(t, "CreateJob", s.CreateJob(ctx, admin, j))
	apps := make([]babysitter.Application, n)
	for i := range apps {
		u := newUser(babysitter.UserNanny)
		must(t, "CreateUser", s.CreateUser(ctx, u))
		apps[i] = newApplication(j.ID, u.Username)
		must(t, "ApplyToJob", s.ApplyToJob(ctx, verified(u), apps[i]))
	}
	calls.Reset()

	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			_, _, errs[i] = s.BookNanny(ctx, book(p, j.ID, apps[i].ID, time.Now().UTC()))
		})
	}
	began := time.Now()
	close(start)
	wg.Wait()
	took := time.Since(began)

	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("bookings %d and %d both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, babysitter.ErrConflict):
			t.Errorf("booking %d: %v, want a conflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no booking succeeded")
	}
	got, err := s.GetJob(ctx, admin, j.ID)
	must(t, "GetJob", err)
	if got.Status != babysitter.JobClosed || got.AcceptedApplicationID != apps[winner].ID {
		t.Errorf("job after the race: %s, accepted %q; want CLOSED, %q", got.Status, got.AcceptedApplicationID, apps[winner].ID)
	}
	if open := openJobs(t, client, table, p.Username); open != 0 {
		t.Errorf("parent openJobs = %d, want 0", open)
	}
	// The losers' applications are untouched, PENDING until declined.
	pending := pendingOf(t, s, j.ID)
	if len(pending) != n-1 || slices.ContainsFunc(pending, func(a babysitter.Application) bool { return a.ID == apps[winner].ID }) {
		t.Errorf("%d PENDING applications after the race, want the %d losers'", len(pending), n-1)
	}
	t.Logf("%d bookers in %v: calls %s; cancellation reasons %s", n, took, calls, ddbtest.Format(reasons.get()))
}

// reasonLog counts the cancellation reason codes of canceled transactions.
type reasonLog struct {
	mu    sync.Mutex
	codes map[string]int
}

func (r *reasonLog) register(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("reasonLog",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			var tce *types.TransactionCanceledException
			if errors.As(err, &tce) {
				r.mu.Lock()
				for _, c := range tce.CancellationReasons {
					r.codes[aws.ToString(c.Code)]++
				}
				r.mu.Unlock()
			}
			return out, md, err
		}), middleware.After)
}

func (r *reasonLog) get() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.codes))
	for k, v := range r.codes {
		out[k] = v
	}
	return out
}
