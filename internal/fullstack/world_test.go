package fullstack_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/internal/testenv"
	sqsqueue "github.com/babysitter-go/babysitter/queue/sqs"
	"github.com/babysitter-go/babysitter/queue/sqs/sqstest"
	"github.com/babysitter-go/babysitter/store/dynamodb"
)

// A world is one process of the marketplace — a Service and the decline
// consumer's Decliner — on a fresh DynamoDB table and a fresh SQS queue
// with a dead-letter queue, plus the instruments the tests read: SQS call
// counts, SQS fault injection, and a tally of the applications each
// decline actually changed. restart starts another process on the same
// table and queues.
type world struct {
	t   testing.TB
	svc *babysitter.Service
	// decliner consumes the decline queue.
	decliner *babysitter.Decliner
	store    *countingStore
	q, dlq   *sqsqueue.Queue
	// visibility is the queue's visibility timeout, which pollers extend.
	visibility time.Duration

	calls       *sqstest.CallCounter
	faults      *sqstest.Faults
	entryFaults *sqstest.EntryFaults

	// What restart needs: the table and the queues' URLs.
	table, url, dlqURL string
}

// config tunes a world.
type config struct {
	// visibility is the queue's visibility timeout; default 2s, short so
	// that failed messages come back quickly.
	visibility time.Duration
	// maxReceive is the redrive policy's maxReceiveCount; default 5.
	maxReceive int
}

// quiet discards the logs of the Service and pollers: poison messages and
// injected crashes are logged as errors, on purpose.
var quiet = slog.New(slog.DiscardHandler)

var admin = babysitter.Actor{Username: "admin", Role: babysitter.RoleAdmin}

func newWorld(t testing.TB, cfg config) *world {
	t.Helper()
	if cfg.visibility == 0 {
		cfg.visibility = 2 * time.Second
	}
	if cfg.maxReceive == 0 {
		cfg.maxReceive = 5
	}
	ctx := t.Context()
	ddb := testenv.DynamoDBClient(t)
	table := testenv.UniqueName(t, "fs")
	if err := dynamodb.CreateTable(ctx, ddb, table); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	t.Cleanup(func() {
		_, _ = ddb.DeleteTable(context.Background(), &awsddb.DeleteTableInput{TableName: aws.String(table)})
	})
	client := testenv.SQSClient(t)
	url, dlqURL, err := sqsqueue.CreateQueue(ctx, client, testenv.UniqueName(t, "fs"), cfg.visibility, cfg.maxReceive)
	if err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	t.Cleanup(func() {
		for _, u := range []string{url, dlqURL} {
			_, _ = client.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(u)})
		}
	})
	w := &world{t: t, visibility: cfg.visibility, table: table, url: url, dlqURL: dlqURL}
	return w.restart()
}

// restart returns a new process on w's table and queues: new clients
// (ddbOpts are the DynamoDB client's options, such as a middleware), new
// instruments with no faults, a new Service, Decliner and tally. The old
// process is left as it is; a test that "kills" it just stops using it.
func (w *world) restart(ddbOpts ...func(*awsddb.Options)) *world {
	t := w.t
	n := &world{
		t:           t,
		visibility:  w.visibility,
		table:       w.table,
		url:         w.url,
		dlqURL:      w.dlqURL,
		calls:       &sqstest.CallCounter{},
		faults:      &sqstest.Faults{},
		entryFaults: &sqstest.EntryFaults{},
	}
	// The SDK's standard retryer with short backoffs: its own rules decide
	// what is retried, but injected throttling costs milliseconds, not the
	// standard 1s base.
	client := testenv.SQSClient(t, sqstest.FastRetries(5), func(o *sqs.Options) {
		o.APIOptions = append(o.APIOptions, n.entryFaults.Register, n.faults.Register, n.calls.Register)
	})
	n.q = sqsqueue.New(client, w.url, sqsqueue.Options{WaitTime: time.Second})
	n.dlq = sqsqueue.New(client, w.dlqURL, sqsqueue.Options{WaitTime: time.Second})
	n.store = &countingStore{Store: dynamodb.New(testenv.DynamoDBClient(t, ddbOpts...), w.table), declined: map[string]int{}}
	// The invariants are the bookings'; accounts are verified without
	// documents (evidence_test.go verifies on them).
	n.svc = babysitter.New(n.store, n.q, babysitter.Options{Logger: quiet, VerifyWithoutDocument: true})
	n.decliner = babysitter.NewDecliner(n.store, babysitter.DeclinerOptions{Logger: quiet})
	return n
}

// countingStore tallies, per application, how many DeclinePending calls
// moved it PENDING → DECLINED: after any number of redeliveries, retries
// and sweeps, each must be exactly 1 ("declined once in effect").
type countingStore struct {
	babysitter.Store
	mu       sync.Mutex
	declined map[string]int
	skipped  atomic.Int64
}

func (s *countingStore) DeclinePending(ctx context.Context, jobID string, now time.Time) (babysitter.DeclineResult, error) {
	res, err := s.Store.DeclinePending(ctx, jobID, now)
	s.mu.Lock()
	for _, id := range res.Declined {
		s.declined[id]++
	}
	s.mu.Unlock()
	s.skipped.Add(int64(len(res.Skipped)))
	return res, err
}

// declines returns how many times each application was declined.
func (s *countingStore) declines() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.declined)
}

// ---- fixtures ----

var (
	runID = func() string {
		b := make([]byte, 3)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b)
	}()
	seq atomic.Int64
)

// uniqueName returns a fresh valid username ("u<n>-<run>").
func uniqueName() string { return fmt.Sprintf("u%d-%s", seq.Add(1), runID) }

// account creates a user of the role through the Service, VERIFIED by the
// admin.
func (w *world) account(role babysitter.Role) babysitter.Actor {
	w.t.Helper()
	a := babysitter.Actor{Username: uniqueName(), Role: role}
	typ := babysitter.UserParent
	if role == babysitter.RoleNanny {
		typ = babysitter.UserNanny
	}
	ctx := w.t.Context()
	if _, err := w.svc.CreateUser(ctx, a, babysitter.NewUser{
		Username: a.Username, Email: a.Username + "@example.com", Type: typ,
		Profile: babysitter.Profile{FirstName: "F", LastName: "L", DateOfBirth: babysitter.Date{Year: 1990, Month: 1, Day: 2}},
	}); err != nil {
		w.t.Fatalf("CreateUser: %v", err)
	}
	if _, err := w.svc.UpdateUserStatus(ctx, admin, a.Username, babysitter.StatusChange{Status: babysitter.StatusVerified}); err != nil {
		w.t.Fatalf("verify %s: %v", a.Username, err)
	}
	return a
}

// accounts creates n accounts concurrently.
func (w *world) accounts(role babysitter.Role, n int) []babysitter.Actor {
	w.t.Helper()
	out := make([]babysitter.Actor, n)
	parallel(n, 16, func(i int) { out[i] = w.account(role) })
	return out
}

func (w *world) job(parent babysitter.Actor) babysitter.Job {
	w.t.Helper()
	j, err := w.svc.CreateJob(w.t.Context(), parent, babysitter.JobDetails{
		JobType:      babysitter.JobBabysitting,
		Description:  "Two kids, one cat.",
		NumberOfKids: 2,
		StartDate:    babysitter.Date{Year: 2030, Month: time.May, Day: 1},
		EndDate:      babysitter.Date{Year: 2030, Month: time.May, Day: 2},
		StartTime:    18*60 + 30,
		EndTime:      1*60 + 15,
		Address:      "2 Main Street",
		City:         "Berlin",
		Latitude:     52.5,
		Longitude:    13.4,
		Cost:         babysitter.Money{Amount: 4500, Currency: "EUR"},
	})
	if err != nil {
		w.t.Fatalf("CreateJob: %v", err)
	}
	return j
}

// apply applies every nanny to the job, concurrently.
func (w *world) apply(jobID string, nannies []babysitter.Actor) []babysitter.Application {
	w.t.Helper()
	apps := make([]babysitter.Application, len(nannies))
	errs := make([]error, len(nannies))
	parallel(len(nannies), 16, func(i int) {
		apps[i], errs[i] = w.svc.ApplyToJob(w.t.Context(), nannies[i], jobID, babysitter.NewApplication{})
	})
	if err := errors.Join(errs...); err != nil {
		w.t.Fatalf("ApplyToJob: %v", err)
	}
	return apps
}

// parallel runs fn(0..n-1) on at most width goroutines.
func parallel(n, width int, fn func(i int)) {
	sem := make(chan struct{}, width)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(i)
		})
	}
	wg.Wait()
}

// race runs fn(0..n-1) in n goroutines released together and returns their
// errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func scale(n, short int) int {
	if testing.Short() {
		return short
	}
	return n
}

// ---- the consumer ----

// poller returns the decline consumer over the world's queue.
func (w *world) poller(concurrency int, h babysitter.BatchHandler) *babysitter.Poller {
	if h == nil {
		h = w.decliner.HandleBatch
	}
	return &babysitter.Poller{
		Source:            w.q,
		Handler:           h,
		Concurrency:       concurrency,
		VisibilityTimeout: w.visibility,
		Logger:            quiet,
	}
}

// run starts p in the background; stop cancels it and waits for Run to
// return (its graceful stop: the batches in flight are finished).
func (w *world) run(p *babysitter.Poller) (stop func()) {
	ctx, cancel := context.WithCancel(w.t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				w.t.Errorf("Poller.Run: %v", err)
			}
		})
	}
	w.t.Cleanup(stop)
	return stop
}

// drainTimeout bounds a drain: long enough for several redelivery rounds.
const drainTimeout = 60 * time.Second

// drain runs the decline consumer until the queue is empty, then stops it.
func (w *world) drain(concurrency int, h babysitter.BatchHandler) {
	w.t.Helper()
	stop := w.run(w.poller(concurrency, h))
	w.waitEmpty(w.q, drainTimeout)
	stop()
}

// waitEmpty waits until q has no visible and no in-flight messages
// (GetQueueAttributes) on three checks in a row, 100ms apart.
func (w *world) waitEmpty(q *sqsqueue.Queue, timeout time.Duration) {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	stable := 0
	for stable < 3 {
		visible, notVisible, err := q.Len(w.t.Context())
		if err != nil {
			w.t.Fatalf("Len: %v", err)
		}
		if visible+notVisible == 0 {
			stable++
		} else {
			stable = 0
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("queue not drained after %v: %d visible, %d in flight", timeout, visible, notVisible)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// queueLen is the number of messages in q, visible or not.
func (w *world) queueLen(q *sqsqueue.Queue) int {
	w.t.Helper()
	visible, notVisible, err := q.Len(w.t.Context())
	if err != nil {
		w.t.Fatalf("Len: %v", err)
	}
	return visible + notVisible
}

// ---- checks ----

// statuses returns every application of the job by status, through the
// Service as admin, all pages.
func (w *world) statuses(jobID string) (babysitter.Job, map[babysitter.ApplicationStatus][]babysitter.Application) {
	w.t.Helper()
	out := map[babysitter.ApplicationStatus][]babysitter.Application{}
	var job babysitter.Job
	p := babysitter.PageRequest{Limit: babysitter.MaxLimit}
	for {
		res, err := w.svc.ListApplicationsForJob(w.t.Context(), admin, jobID, p)
		if err != nil {
			w.t.Fatalf("ListApplicationsForJob: %v", err)
		}
		job = res.Job
		for _, a := range res.Applications.Items {
			out[a.Status] = append(out[a.Status], a)
		}
		if res.Applications.NextCursor == "" {
			return job, out
		}
		p.Cursor = res.Applications.NextCursor
	}
}

// checkInvariants asserts invariants 1 and 2 (DESIGN.md) after a drain: at most
// one ACCEPTED application, the job CLOSED with it; no PENDING application
// on a job that is not OPEN. It returns the statuses.
func (w *world) checkInvariants(jobID string, wantApps int) map[babysitter.ApplicationStatus][]babysitter.Application {
	w.t.Helper()
	job, st := w.statuses(jobID)
	total := 0
	for _, apps := range st {
		total += len(apps)
	}
	if total != wantApps {
		w.t.Errorf("job %s has %d applications, want %d", jobID, total, wantApps)
	}
	switch acc := st[babysitter.ApplicationAccepted]; {
	case len(acc) > 1:
		w.t.Errorf("invariant 1: job %s has %d ACCEPTED applications", jobID, len(acc))
	case len(acc) == 1 && (job.Status != babysitter.JobClosed || job.AcceptedApplicationID != acc[0].ID):
		w.t.Errorf("invariant 1: application %s ACCEPTED but job is %s with accepted %q", acc[0].ID, job.Status, job.AcceptedApplicationID)
	}
	if job.Status != babysitter.JobOpen && len(st[babysitter.ApplicationPending]) > 0 {
		w.t.Errorf("invariant 2: job %s is %s with %d PENDING applications after the drain", jobID, job.Status, len(st[babysitter.ApplicationPending]))
	}
	return st
}

// checkDeclinedOnce asserts, for every application of one job (st, by
// status), that each DECLINED one was declined by exactly one
// DeclinePending call of this process and every other one by none.
func (w *world) checkDeclinedOnce(st map[babysitter.ApplicationStatus][]babysitter.Application) {
	w.t.Helper()
	counts := w.store.declines()
	for status, apps := range st {
		want := 0
		if status == babysitter.ApplicationDeclined {
			want = 1
		}
		for _, a := range apps {
			if n := counts[a.ID]; n != want {
				w.t.Errorf("%s application %s declined %d times in effect, want %d", status, a.ID, n, want)
			}
		}
	}
}

// due returns the jobs whose declines are due, whatever since when: the
// table is the world's own.
func (w *world) due() []string {
	w.t.Helper()
	ids, err := w.store.DueDeclines(w.t.Context(), time.Now().Add(time.Hour), 100)
	if err != nil {
		w.t.Fatalf("DueDeclines: %v", err)
	}
	return ids
}

// checkDLQEmpty asserts that nothing was dead-lettered.
func (w *world) checkDLQEmpty() {
	w.t.Helper()
	if n := w.queueLen(w.dlq); n != 0 {
		w.t.Errorf("dead-letter queue holds %d messages, want 0", n)
	}
}
