package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/sync/errgroup"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/internal/testenv"
	"github.com/babysitter-go/babysitter/queue/memory"
	sqsqueue "github.com/babysitter-go/babysitter/queue/sqs"
	"github.com/babysitter-go/babysitter/queue/sqs/sqstest"
	"github.com/babysitter-go/babysitter/store/dynamodb"
	"github.com/babysitter-go/babysitter/store/dynamodb/ddbtest"
	memstore "github.com/babysitter-go/babysitter/store/memory"
)

// The backends.
const (
	backendMemory = "memory"
	backendAWS    = "aws"
)

// env is one run's backend: the clients (with the counting middleware) or
// the in-memory stores and queues, the fixtures shared between scenarios,
// and what to clean up at the end.
type env struct {
	backend string
	sz      sizes
	prog    *progress
	rec     *recorder
	log     *slog.Logger
	runID   string
	seq     atomic.Int64

	// aws
	ddb         *awsddb.Client
	sqs         *awssqs.Client
	ddbCalls    ddbtest.CallCounter
	sqsCalls    sqstest.CallCounter
	itemsRead   atomic.Int64
	rtt         time.Duration // modeled network delay per request attempt
	ddbEndpoint string
	sqsEndpoint string
	started     []string // servers this run started

	cpu *cpuMeter

	// memory: calls of the Store and Queue/Source methods
	memStore, memQueue callMap

	mu       sync.Mutex
	cleanups []func()
	main     *world             // the shared store (and its own queue)
	pool     []babysitter.Actor // nannies on main's store
}

// admin acts for UpdateUserStatus and the like. Admins are provisioned in
// the identity provider and need no account.
var admin = babysitter.Actor{Username: "bench-admin", Role: babysitter.RoleAdmin}

func newEnv(ctx context.Context, backend string, sz sizes, prog *progress, rtt time.Duration) (*env, error) {
	var id [3]byte
	_, _ = rand.Read(id[:])
	e := &env{
		backend: backend,
		sz:      sz,
		prog:    prog,
		rec:     &recorder{},
		log:     slog.New(slog.DiscardHandler),
		runID:   hex.EncodeToString(id[:]),
		rtt:     rtt,
	}
	if backend == backendMemory {
		e.cpu = newCPUMeter("", "")
		return e, nil
	}
	if err := e.connect(ctx); err != nil {
		e.close()
		return nil, err
	}
	e.cpu = newCPUMeter(e.ddbEndpoint, e.sqsEndpoint)
	return e, nil
}

// connect finds or starts the servers and builds the clients.
func (e *env) connect(ctx context.Context) error {
	e.ddbEndpoint = os.Getenv(testenv.EnvDynamoDBEndpoint)
	e.sqsEndpoint = os.Getenv(testenv.EnvSQSEndpoint)
	if e.ddbEndpoint == "" || e.sqsEndpoint == "" {
		root, err := testenv.ModuleRoot()
		if err != nil {
			return fmt.Errorf("starting servers: %w", err)
		}
		start := func(name string, endpoint *string, fn func(context.Context, string) (string, func() error, error)) error {
			if *endpoint != "" {
				return nil
			}
			e.prog.phase("starting %s", name)
			ep, stop, err := fn(ctx, root)
			if err != nil {
				return fmt.Errorf("start %s: %w", name, err)
			}
			*endpoint = ep
			e.started = append(e.started, name)
			e.onClose(func() { _ = stop() })
			return nil
		}
		if err := start("DynamoDB Local", &e.ddbEndpoint, testenv.StartDynamoDBLocal); err != nil {
			return err
		}
		if err := start("fauxqs", &e.sqsEndpoint, testenv.StartFauxqs); err != nil {
			return err
		}
	}
	// One pooled HTTP client per service with room for the scenarios'
	// concurrency: the SDK's default keeps only 10 idle connections per
	// host, and a 16-worker drain would otherwise reconnect on every
	// request.
	httpClient := func() *awshttp.BuildableClient {
		return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConns = 256
			t.MaxIdleConnsPerHost = 128
		})
	}
	cfg := testenv.AWSConfig()
	e.ddb = awsddb.NewFromConfig(cfg, func(o *awsddb.Options) {
		o.BaseEndpoint = aws.String(e.ddbEndpoint)
		o.HTTPClient = httpClient()
		o.APIOptions = append(o.APIOptions, e.ddbCalls.Register, e.countItems, e.delay, timeRequests)
	})
	e.sqs = awssqs.NewFromConfig(cfg, func(o *awssqs.Options) {
		o.BaseEndpoint = aws.String(e.sqsEndpoint)
		o.HTTPClient = httpClient()
		o.APIOptions = append(o.APIOptions, e.sqsCalls.Register, e.delay, timeRequests)
	})
	return nil
}

// countItems is an API option adding a middleware that counts the items
// each DynamoDB response carries: GetItem's item, BatchGetItem's and
// TransactGetItems' responses, Query's and Scan's ScannedCount (items read
// before any filter). ConsumedCapacity would say the same in capacity
// units, but DynamoDB Local does not report it reliably.
func (e *env) countItems(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("bench.CountItems",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			if err == nil {
				e.itemsRead.Add(itemsIn(out.Result))
			}
			return out, md, err
		}), middleware.Before)
}

// reqLog collects the latency of each request made with a context that
// carries it (withReqLog), by API: where the time of one call goes.
type reqLog struct {
	mu  sync.Mutex
	lat map[string][]time.Duration
}

type reqLogKey struct{}

// withReqLog returns ctx carrying l: the requests made with it are timed
// into l.
func withReqLog(ctx context.Context, l *reqLog) context.Context {
	return context.WithValue(ctx, reqLogKey{}, l)
}

func (l *reqLog) add(api string, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lat == nil {
		l.lat = map[string][]time.Duration{}
	}
	l.lat[api] = append(l.lat[api], d)
}

// sqsAPIs are the SQS operations among a reqLog's APIs; the rest are
// DynamoDB's.
var sqsAPIs = map[string]bool{
	"SendMessage": true, "SendMessageBatch": true, "ReceiveMessage": true, "DeleteMessage": true,
	"DeleteMessageBatch": true, "ChangeMessageVisibility": true, "GetQueueAttributes": true,
}

// counts are the requests made with l's context, by API: only the calls
// of one operation, whatever the consumers and pollers around it send.
func (l *reqLog) counts() counts {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := counts{store: map[string]int{}, queue: map[string]int{}, items: -1}
	for api, lat := range l.lat {
		if sqsAPIs[api] {
			c.queue[api] = len(lat)
		} else {
			c.store[api] = len(lat)
		}
	}
	return c
}

// p50s formats the median latency of each API, sorted by name.
func (l *reqLog) p50s() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var parts []string
	for _, api := range slices.Sorted(maps.Keys(l.lat)) {
		parts = append(parts, api+" "+dur(percentile(l.lat[api], 0.5)))
	}
	if len(parts) == 0 {
		return "–"
	}
	return strings.Join(parts, ", ")
}

// timeRequests is an API option adding a middleware that times each
// successful client call (retries included) into the reqLog its context
// carries, if any.
func timeRequests(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("bench.TimeRequests",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			l, _ := ctx.Value(reqLogKey{}).(*reqLog)
			if l == nil {
				return next.HandleInitialize(ctx, in)
			}
			t0 := time.Now()
			out, md, err := next.HandleInitialize(ctx, in)
			if err == nil { // not a long poll cut short by a stop
				l.add(awsmiddleware.GetOperationName(ctx), time.Since(t0))
			}
			return out, md, err
		}), middleware.Before)
}

// delay is an API option adding e.rtt before every attempt (after the
// retry middleware), a crude model of a network round trip.
func (e *env) delay(stack *middleware.Stack) error {
	if e.rtt <= 0 {
		return nil
	}
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("bench.Delay",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			t := time.NewTimer(e.rtt)
			select {
			case <-ctx.Done():
				t.Stop()
				return middleware.FinalizeOutput{}, middleware.Metadata{}, ctx.Err()
			case <-t.C:
			}
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}

func itemsIn(result any) int64 {
	switch r := result.(type) {
	case *awsddb.GetItemOutput:
		if r.Item != nil {
			return 1
		}
	case *awsddb.BatchGetItemOutput:
		n := 0
		for _, items := range r.Responses {
			n += len(items)
		}
		return int64(n)
	case *awsddb.TransactGetItemsOutput:
		n := 0
		for _, ir := range r.Responses {
			if ir.Item != nil {
				n++
			}
		}
		return int64(n)
	case *awsddb.QueryOutput:
		return int64(r.ScannedCount)
	case *awsddb.ScanOutput:
		return int64(r.ScannedCount)
	}
	return 0
}

// snapshot is the requests sent so far; subtract two to measure a span.
func (e *env) snapshot() counts {
	if e.backend == backendMemory {
		return counts{store: e.memStore.get(), queue: e.memQueue.get(), items: -1}
	}
	return counts{store: e.ddbCalls.Calls(), queue: e.sqsCalls.Calls(), items: e.itemsRead.Load()}
}

func (e *env) onClose(fn func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cleanups = append(e.cleanups, fn)
}

// close runs the cleanups, last first: tables and queues, then servers.
func (e *env) close() {
	e.mu.Lock()
	fns := e.cleanups
	e.cleanups = nil
	e.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

// name is a fresh table or queue name.
func (e *env) name(label string) string {
	return fmt.Sprintf("bench-%s-%s-%d", label, e.runID, e.seq.Add(1))
}

// username is a fresh valid username.
func (e *env) username(prefix string) string {
	return fmt.Sprintf("%s%s%d", prefix, e.runID, e.seq.Add(1))
}

// newStore returns a fresh, empty Store: a DynamoDB table, or a memory
// store counting its calls.
func (e *env) newStore(ctx context.Context, label string) (babysitter.Store, string, error) {
	if e.backend == backendMemory {
		return &countingStore{Store: memstore.New(), m: &e.memStore}, "", nil
	}
	table := e.name(label)
	if err := dynamodb.CreateTable(ctx, e.ddb, table); err != nil {
		return nil, "", err
	}
	e.onClose(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = e.ddb.DeleteTable(ctx, &awsddb.DeleteTableInput{TableName: aws.String(table)})
	})
	return dynamodb.New(e.ddb, table), table, nil
}

// newQueue returns a fresh queue (with a dead-letter queue on SQS) as a
// Queue and a Source.
func (e *env) newQueue(ctx context.Context, label string) (babysitter.Queue, babysitter.Source, error) {
	if e.backend == backendMemory {
		q := &countingQueue{q: memory.New(memory.Options{WaitTime: 200 * time.Millisecond}), m: &e.memQueue}
		return q, q, nil
	}
	url, dlq, err := sqsqueue.CreateQueue(ctx, e.sqs, e.name(label), 30*time.Second, 5)
	if err != nil {
		return nil, nil, err
	}
	e.onClose(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, u := range []string{url, dlq} {
			_, _ = e.sqs.DeleteQueue(ctx, &awssqs.DeleteQueueInput{QueueUrl: aws.String(u)})
		}
	})
	q := sqsqueue.New(e.sqs, url, sqsqueue.Options{WaitTime: time.Second})
	return q, q, nil
}

// world is a Service on a store and a queue, with a tally of the
// applications its decline consumers declined.
type world struct {
	e     *env
	base  babysitter.Store
	table string // aws
	store *tallyStore
	q     babysitter.Queue
	src   babysitter.Source
	svc   *babysitter.Service
	// decliner consumes the world's decline queue.
	decliner *babysitter.Decliner
}

// newWorld returns a world on base (a fresh store when nil) with a fresh
// queue.
func (e *env) newWorld(ctx context.Context, label string, base babysitter.Store, table string) (*world, error) {
	if base == nil {
		var err error
		if base, table, err = e.newStore(ctx, label); err != nil {
			return nil, err
		}
	}
	q, src, err := e.newQueue(ctx, label)
	if err != nil {
		return nil, err
	}
	w := &world{e: e, base: base, table: table, store: &tallyStore{Store: base}, q: q, src: src}
	// AllowUnverified spares the fixtures an UpdateUserStatus per account;
	// it changes only the statuses listed in the guard conditions, not the
	// requests.
	w.svc = babysitter.New(w.store, q, babysitter.Options{Logger: e.log, AllowUnverified: true, VerifyWithoutDocument: true})
	w.decliner = babysitter.NewDecliner(w.store, babysitter.DeclinerOptions{Logger: e.log})
	return w, nil
}

// mainWorld is the world on the shared store, made on first use.
func (e *env) mainWorld(ctx context.Context) (*world, error) {
	e.mu.Lock()
	w := e.main
	e.mu.Unlock()
	if w != nil {
		return w, nil
	}
	w, err := e.newWorld(ctx, "main", nil, "")
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.main = w
	e.mu.Unlock()
	return w, nil
}

// on returns a world on the same store as w with a fresh queue.
func (w *world) on(ctx context.Context, label string) (*world, error) {
	return w.e.newWorld(ctx, label, w.base, w.table)
}

// settle waits until the world's queue holds no message, visible or in
// flight (deleted after handling). Its GetQueueAttributes calls are
// counted like any other; callers drop them.
func (w *world) settle(ctx context.Context) error {
	return settle(ctx, func(ctx context.Context) (int, error) {
		switch q := w.src.(type) {
		case *sqsqueue.Queue:
			v, nv, err := q.Len(ctx)
			return v + nv, err
		case *countingQueue:
			v, f := q.q.Len()
			return v + f, nil
		}
		return 0, fmt.Errorf("settle: unknown queue %T", w.src)
	})
}

func settle(ctx context.Context, length func(context.Context) (int, error)) error {
	deadline := time.Now().Add(time.Minute)
	for {
		n, err := length(ctx)
		if err != nil || n == 0 {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the queue still holds %d messages after a minute", n)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// withoutLen drops the queue-length requests settle made.
func withoutLen(c counts) counts {
	delete(c.queue, "GetQueueAttributes")
	return c
}

// withoutPolls also drops the receives: for a span that receives nothing
// itself while idle consumers long-poll beside it.
func withoutPolls(c counts) counts {
	delete(c.queue, "ReceiveMessage")
	delete(c.queue, "Receive")
	return withoutLen(c)
}

// ---- fixtures ----

func (w *world) user(ctx context.Context, role babysitter.Role) (babysitter.Actor, error) {
	typ, prefix := babysitter.UserParent, "p"
	if role == babysitter.RoleNanny {
		typ, prefix = babysitter.UserNanny, "n"
	}
	a := babysitter.Actor{Username: w.e.username(prefix), Role: role}
	_, err := w.svc.CreateUser(ctx, a, newUser(a.Username, typ))
	return a, err
}

func newUser(username string, typ babysitter.UserType) babysitter.NewUser {
	lat, lon := 52.52, 13.405
	return babysitter.NewUser{
		Username: username,
		Email:    username + "@example.com",
		Type:     typ,
		Profile: babysitter.Profile{
			FirstName: "Bench", LastName: "Mark",
			DateOfBirth: babysitter.Date{Year: 1990, Month: time.March, Day: 14},
			Address:     "1 Main Street", About: "Likes benchmarks.",
			Latitude: &lat, Longitude: &lon,
			PhoneNumber:     "+4930123456",
			SpokenLanguages: []string{"en", "de"},
			HourlyRate:      &babysitter.Money{Amount: 1500, Currency: "EUR"},
		},
	}
}

func jobDetails() babysitter.JobDetails {
	return babysitter.JobDetails{
		JobType:      babysitter.JobBabysitting,
		Description:  "Two kids, one cat. Dinner at seven, bed at eight.",
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
	}
}

func (w *world) job(ctx context.Context, parent babysitter.Actor) (babysitter.Job, error) {
	return w.svc.CreateJob(ctx, parent, jobDetails())
}

// applyAll applies each nanny to the job, conc at a time: every
// application is a transaction with a ConditionCheck on the job item, so
// more than a few at once on one job mostly buys TransactionConflicts.
func (w *world) applyAll(ctx context.Context, jobID string, nannies []babysitter.Actor, conc int) ([]babysitter.Application, error) {
	apps := make([]babysitter.Application, len(nannies))
	err := parallel(ctx, len(nannies), conc, func(ctx context.Context, i int) error {
		var err error
		apps[i], err = w.svc.ApplyToJob(ctx, nannies[i], jobID, babysitter.NewApplication{Message: "Happy to help."})
		return err
	})
	return apps, err
}

// nannies returns n nannies with accounts on the main store, creating
// those the pool lacks.
func (e *env) nannies(ctx context.Context, n int) ([]babysitter.Actor, error) {
	w, err := e.mainWorld(ctx)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	have := len(e.pool)
	e.mu.Unlock()
	if have < n {
		fresh := make([]babysitter.Actor, n-have)
		var made atomic.Int64
		err := parallel(ctx, len(fresh), 8, func(ctx context.Context, i int) error {
			var err error
			fresh[i], err = w.user(ctx, babysitter.RoleNanny)
			e.prog.step("nanny accounts %d/%d", have+int(made.Add(1)), n)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("creating nannies: %w", err)
		}
		e.mu.Lock()
		e.pool = append(e.pool, fresh...)
		e.mu.Unlock()
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.pool[:n], nil
}

// parallel runs fn(0…n-1), at most conc at once, and returns the first
// error.
func parallel(ctx context.Context, n, conc int, fn func(ctx context.Context, i int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	for i := range n {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error { return fn(gctx, i) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// startPoller runs a Poller of the world's decline queue with conc
// workers, its handler wrapped by wrap when not nil; stop cancels it and
// waits until the batches in flight are handled and deleted.
func (w *world) startPoller(ctx context.Context, conc int, wrap func(babysitter.BatchHandler) babysitter.BatchHandler) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	h := babysitter.BatchHandler(w.decliner.HandleBatch)
	if wrap != nil {
		h = wrap(h)
	}
	p := &babysitter.Poller{Source: w.src, Handler: h, Concurrency: conc, Logger: w.e.log}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = p.Run(ctx) // only a misconfigured Poller returns an error
	}()
	return func() {
		cancel()
		<-done
	}
}

// ---- the decline tally ----

// tally counts declines and signals when an armed target is reached,
// recording the moment: that is when the last decline was applied.
type tally struct {
	mu     sync.Mutex
	n      int
	target int
	done   chan struct{}
	at     time.Time
}

func (t *tally) add(k int) {
	if k == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n += k
	if t.done != nil && t.n >= t.target {
		t.at = time.Now()
		close(t.done)
		t.done = nil
	}
}

// arm resets the count and returns a channel closed once target declines
// are counted, and a function returning when that happened.
func (t *tally) arm(target int) (<-chan struct{}, func() time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n, t.target = 0, target
	done := make(chan struct{})
	t.done = done
	return done, func() time.Time {
		t.mu.Lock()
		defer t.mu.Unlock()
		return t.at
	}
}

// waitFor waits for done, failing after timeout with what was counted.
func (t *tally) waitFor(ctx context.Context, done <-chan struct{}, timeout time.Duration) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		t.mu.Lock()
		defer t.mu.Unlock()
		return fmt.Errorf("only %d of %d declines applied after %v", t.n, t.target, timeout)
	}
}

// tallyStore counts the applications DeclinePending moved to
// DECLINED, and remembers how many geohash ranges the last
// ListOpenJobsInRanges was given (one Query each on DynamoDB).
type tallyStore struct {
	babysitter.Store
	tally
	ranges atomic.Int64
}

func (s *tallyStore) ListOpenJobsInRanges(ctx context.Context, g babysitter.Guard, ranges []babysitter.GeoRange) ([]babysitter.Job, error) {
	s.ranges.Store(int64(len(ranges)))
	return s.Store.ListOpenJobsInRanges(ctx, g, ranges)
}

func (s *tallyStore) DeclinePending(ctx context.Context, jobID string, now time.Time) (babysitter.DeclineResult, error) {
	res, err := s.Store.DeclinePending(ctx, jobID, now)
	s.add(len(res.Declined))
	return res, err
}

// ---- counting the memory backend's calls ----

// callMap counts calls by name; safe for concurrent use.
type callMap struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *callMap) inc(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[name]++
}

func (c *callMap) get() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

// countingQueue is a memory queue counting its calls.
type countingQueue struct {
	q *memory.Queue
	m *callMap
}

func (c *countingQueue) Send(ctx context.Context, msgs []babysitter.Message) error {
	c.m.inc("Send")
	return c.q.Send(ctx, msgs)
}

func (c *countingQueue) Receive(ctx context.Context, max int) ([]babysitter.Message, error) {
	c.m.inc("Receive")
	return c.q.Receive(ctx, max)
}

func (c *countingQueue) Delete(ctx context.Context, msgs []babysitter.Message) error {
	c.m.inc("Delete")
	return c.q.Delete(ctx, msgs)
}

func (c *countingQueue) ChangeVisibility(ctx context.Context, msg babysitter.Message, timeout time.Duration) error {
	c.m.inc("ChangeVisibility")
	return c.q.ChangeVisibility(ctx, msg, timeout)
}
