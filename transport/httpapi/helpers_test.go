package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/babysitter-go/babysitter"
	bmemory "github.com/babysitter-go/babysitter/blob/memory"
	"github.com/babysitter-go/babysitter/internal/testlog"
	nmemory "github.com/babysitter-go/babysitter/notify/memory"
	"github.com/babysitter-go/babysitter/notify/notifytest"
	memqueue "github.com/babysitter-go/babysitter/queue/memory"
	memstore "github.com/babysitter-go/babysitter/store/memory"
	"github.com/babysitter-go/babysitter/transport/httpapi/jwtauth"
)

// testKey signs the tests' HS256 tokens.
const testKey = "test-signing-key-0123456789abcdef"

// maxReceiveCount is how often the tests' queues deliver a decline message
// before they dead-letter it, as examples/http's and the SAM template's.
const maxReceiveCount = 5

// backend makes the store, queue and source of one test server: the
// end-to-end story runs once per backend.
type backend struct {
	name string
	open func(t testing.TB) (babysitter.Store, babysitter.Queue, babysitter.Source)
	// evidence is the backend's object storage and notifier; nil for the
	// in-memory ones (memoryEvidence).
	evidence evidenceBackend
}

// withEvidence makes a test server's object storage and notifier those of
// b (nothing changes for nil).
func withEvidence(b evidenceBackend) func(*envConfig) {
	return func(c *envConfig) {
		if b != nil {
			c.evidence = b
		}
	}
}

// memoryBackend is always available. The short wait lets a stopping
// poller return quickly.
var memoryBackend = backend{
	name: "memory",
	open: func(testing.TB) (babysitter.Store, babysitter.Queue, babysitter.Source) {
		dlq := memqueue.New(memqueue.Options{WaitTime: 50 * time.Millisecond})
		q := memqueue.New(memqueue.Options{
			VisibilityTimeout: 5 * time.Second,
			WaitTime:          50 * time.Millisecond,
			MaxReceiveCount:   maxReceiveCount,
			DeadLetter:        dlq,
		})
		return memstore.New(), q, q
	},
}

// countingStore counts the calls of every write method a request makes
// and the ones that succeeded, so tests can check that a failed request
// wrote nothing: a request refused for bad input must not even try
// (attempts), one refused by a condition must not change anything
// (writes). The decline consumer's writes (DeclinePending), which run
// beside the requests, are not counted.
type countingStore struct {
	babysitter.Store
	attempts, writes atomic.Int64
}

func (c *countingStore) count(err error) error {
	c.attempts.Add(1)
	if err == nil {
		c.writes.Add(1)
	}
	return err
}

func (c *countingStore) CreateUser(ctx context.Context, u babysitter.User) error {
	return c.count(c.Store.CreateUser(ctx, u))
}

func (c *countingStore) UpdateUser(ctx context.Context, g babysitter.Guard, prevEmail string, next babysitter.User) error {
	return c.count(c.Store.UpdateUser(ctx, g, prevEmail, next))
}

func (c *countingStore) SetUserStatus(ctx context.Context, st babysitter.StatusUpdate) (babysitter.User, error) {
	u, err := c.Store.SetUserStatus(ctx, st)
	return u, c.count(err)
}

func (c *countingStore) DeleteUser(ctx context.Context, g babysitter.Guard, username string, now time.Time) (babysitter.Erasure, error) {
	e, err := c.Store.DeleteUser(ctx, g, username, now)
	return e, c.count(err)
}

func (c *countingStore) UpdateUploads(ctx context.Context, g babysitter.Guard, ch babysitter.UploadChange) (babysitter.User, error) {
	u, err := c.Store.UpdateUploads(ctx, g, ch)
	return u, c.count(err)
}

func (c *countingStore) CreateJob(ctx context.Context, g babysitter.Guard, j babysitter.Job) error {
	return c.count(c.Store.CreateJob(ctx, g, j))
}

func (c *countingStore) UpdateJob(ctx context.Context, g babysitter.Guard, next babysitter.Job) error {
	return c.count(c.Store.UpdateJob(ctx, g, next))
}

func (c *countingStore) TransitionJob(ctx context.Context, g babysitter.Guard, t babysitter.JobTransition) (babysitter.Job, error) {
	j, err := c.Store.TransitionJob(ctx, g, t)
	return j, c.count(err)
}

func (c *countingStore) ApplyToJob(ctx context.Context, g babysitter.Guard, a babysitter.Application) error {
	return c.count(c.Store.ApplyToJob(ctx, g, a))
}

func (c *countingStore) WithdrawApplication(ctx context.Context, g babysitter.Guard, ref babysitter.ApplicationRef, now time.Time) (babysitter.Application, error) {
	a, err := c.Store.WithdrawApplication(ctx, g, ref, now)
	return a, c.count(err)
}

func (c *countingStore) BookNanny(ctx context.Context, r babysitter.BookRequest) (babysitter.Job, babysitter.Application, error) {
	j, a, err := c.Store.BookNanny(ctx, r)
	return j, a, c.count(err)
}

func (c *countingStore) CreateReview(ctx context.Context, g babysitter.Guard, r babysitter.Review) error {
	return c.count(c.Store.CreateReview(ctx, g, r))
}

// countingQueue counts sent messages; fail makes Send fail, to test the
// declines-not-queued path.
type countingQueue struct {
	babysitter.Queue
	sent atomic.Int64
	fail atomic.Bool
}

func (q *countingQueue) Send(ctx context.Context, msgs []babysitter.Message) error {
	if q.fail.Load() {
		return errors.New("injected queue failure")
	}
	if err := q.Queue.Send(ctx, msgs); err != nil {
		return err
	}
	q.sent.Add(int64(len(msgs)))
	return nil
}

// testEnv is a running test server: the real handler and an in-process
// decline poller, on one backend, over loopback. Every request it sends
// and every response it gets is checked against openapi.yaml
// (checkContract).
type testEnv struct {
	t       testing.TB
	url     string
	handler *Handler
	store   *countingStore
	queue   *countingQueue
	logs    *testlog.Buffer
	// blobs is the Service's object storage; objectKeys lists what it
	// holds. published observes what the Decliner's Notifier published.
	blobs      babysitter.Blobs
	objectKeys func() []string
	published  notifytest.Observer
}

// envConfig is what a test may change before its server starts.
type envConfig struct {
	auth    Authenticator
	options Options
	// evidence is the object storage and the notifier: by default
	// in-memory Blobs served under /blobs/ of the test server and an
	// in-memory Notifier.
	evidence evidenceBackend
}

// evidenceBackend makes the object storage and the notifier of a test
// server, once it listens at url: the Blobs, the public base URL of its
// pictures, a handler to mount under /blobs/ (nil for none), a function
// listing the stored keys, and the Notifier with what observes it.
type evidenceBackend func(t testing.TB, url string) evidence

type evidence struct {
	blobs      babysitter.Blobs
	publicBase string
	mount      http.Handler
	keys       func() []string
	notifier   babysitter.Notifier
	published  notifytest.Observer
}

// memoryEvidence is the default: blob/memory under /blobs/ of the test
// server (pictures public, as the bucket's policy makes them) and
// notify/memory.
func memoryEvidence(t testing.TB, url string) evidence {
	t.Helper()
	b, err := bmemory.New(bmemory.Options{BaseURL: url + "/blobs/", PublicPrefixes: []string{babysitter.PublicKeyPrefix}})
	if err != nil {
		t.Fatal(err)
	}
	n := nmemory.New(nmemory.Options{Logger: slog.New(slog.DiscardHandler)})
	return evidence{blobs: b, publicBase: url + "/blobs/", mount: b.Handler(), keys: b.Keys, notifier: n, published: memoryObserver{n, new(int)}}
}

// memoryObserver is notifytest.Observer for notify/memory. Like an SQS
// subscription (testenv.Subscription), each call returns what was
// published since the previous one.
type memoryObserver struct {
	n    *nmemory.Notifier
	seen *int
}

func (o memoryObserver) Published(t *testing.T, n int) []babysitter.Notification {
	t.Helper()
	var got []babysitter.Notification
	eventually(t, declineDeadline, func() error {
		got = o.n.Published()[*o.seen:]
		ids := map[string]bool{}
		for _, x := range got {
			ids[x.ID] = true
		}
		if len(ids) < n {
			return fmt.Errorf("%d of %d notifications published", len(ids), n)
		}
		return nil
	})
	*o.seen += len(got)
	return got
}

// newTestEnv starts the handler on store/queue/source over loopback with a
// running poller; both stop when the test ends. By default callers
// authenticate with HS256 tokens of testKey (token), and writes are not
// limited; opts change that before the server starts.
func newTestEnv(t testing.TB, store babysitter.Store, queue babysitter.Queue, source babysitter.Source, opts ...func(*envConfig)) *testEnv {
	t.Helper()
	logs := &testlog.Buffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cs := &countingStore{Store: store}
	cq := &countingQueue{Queue: queue}
	cfg := envConfig{auth: jwtauth.NewHS256(testKey, 0), evidence: memoryEvidence}
	for _, o := range opts {
		o(&cfg)
	}
	cfg.options.Logger = log
	// The server listens first: the Blobs' URLs are its own.
	mux := http.NewServeMux()
	ts := httptest.NewServer(mux)
	ev := cfg.evidence(t, ts.URL)
	svc := babysitter.New(cs, cq, babysitter.Options{Logger: log, Blobs: ev.blobs, PublicBaseURL: ev.publicBase})
	h := New(svc, cfg.auth, cfg.options)
	if ev.mount != nil {
		mux.Handle("/blobs/", ev.mount)
	}
	mux.Handle("/", h)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// The sweeper takes a job whose declines have been due for 200 ms:
	// far longer than the in-process queue takes, short for the tests.
	decliner := babysitter.NewDecliner(cs, babysitter.DeclinerOptions{Logger: log, SweepAfter: 200 * time.Millisecond, Notifier: ev.notifier})
	go func() {
		done <- (&babysitter.Poller{Source: source, Handler: decliner.HandleBatch, VisibilityTimeout: 5 * time.Second, Logger: log}).Run(ctx)
	}()
	sweeping := make(chan struct{})
	go func() {
		defer close(sweeping)
		_ = decliner.RunSweeper(ctx, 100*time.Millisecond)
	}()
	t.Cleanup(func() {
		ts.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("poller: %v", err)
		}
		<-sweeping
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return &testEnv{t: t, url: ts.URL, handler: h, store: cs, queue: cq, logs: logs, blobs: ev.blobs, objectKeys: ev.keys, published: ev.published}
}

// token mints a test token for username in group.
func token(t testing.TB, username, group string) string {
	t.Helper()
	tok, err := jwtauth.MintDevToken(testKey, username, []string{group}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

// rawBody is a request body sent as is (malformed JSON, oversize bodies).
type rawBody string

// do sends a request with a bearer token (none if tok is "") and a body:
// nil for none, a rawBody as is, anything else as JSON. Bodies are sent
// as application/json. The exchange is checked against the contract.
func (e *testEnv) do(method, path, tok string, body any) response {
	e.t.Helper()
	return e.doWith(method, path, tok, body, nil)
}

// doWith is do with extra request headers, which replace do's.
func (e *testEnv) doWith(method, path, tok string, body any, header http.Header) response {
	e.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case rawBody:
		raw = []byte(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		raw = j
	}
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.url+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return e.send(req, raw)
}

// send sends req, whose body is body, reads the whole response and checks
// both against the contract.
func (e *testEnv) send(req *http.Request, body []byte) response {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, body: b}
	checkContract(e.t, req, body, r)
	return r
}

// want fails the test unless r has status, and decodes its body into a T.
func want[T any](t testing.TB, r response, status int) T {
	t.Helper()
	var v T
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); status != http.StatusNoContent && ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
	if status != http.StatusNoContent {
		if err := json.Unmarshal(r.body, &v); err != nil {
			t.Fatalf("decoding %s: %v", r.body, err)
		}
	}
	return v
}

// wantProblem fails the test unless r is a problem with status and code.
func wantProblem(t testing.TB, r response, status int, code string) Problem {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	var p Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
	if p.Status != status || p.Code != code || p.Type == "" || p.Title == "" {
		t.Fatalf("problem %+v, want status %d and code %q with a type and title", p, status, code)
	}
	if p.RequestID == "" || p.RequestID != r.header.Get("X-Request-Id") {
		t.Fatalf("problem requestId %q, X-Request-Id %q", p.RequestID, r.header.Get("X-Request-Id"))
	}
	return p
}

// eventually retries check until it returns nil or the deadline passes: the
// declines are asynchronous, and a DynamoDB index is eventually consistent.
func eventually(t testing.TB, d time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", d, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// userBody is a valid CreateUser body.
func userBody(username string, typ babysitter.UserType) map[string]any {
	return map[string]any{
		"username":    username,
		"email":       username + "@example.com",
		"type":        typ,
		"firstName":   strings.ToUpper(username[:1]) + username[1:],
		"lastName":    "Example",
		"dateOfBirth": "1990-05-17",
	}
}

// jobBody is a valid CreateJob body.
func jobBody() map[string]any {
	return map[string]any{
		"jobType":      "BABYSITTING",
		"description":  "Two kids, one evening",
		"numberOfKids": 2,
		"startDate":    "2030-06-01",
		"endDate":      "2030-06-01",
		"startTime":    "18:00",
		"endTime":      "23:00",
		"address":      "1 Main Street",
		"city":         "Berlin",
		"latitude":     52.52,
		"longitude":    13.405,
		"cost":         map[string]any{"amount": 6000, "currency": "EUR"},
	}
}

// snapshot is the write counters at one moment.
type snapshot struct{ attempts, writes, sent int64 }

func (e *testEnv) snapshot() snapshot {
	return snapshot{e.store.attempts.Load(), e.store.writes.Load(), e.queue.sent.Load()}
}

// noWrites fails the test if anything was written or sent since before.
// With tried false, not even an attempt to write is allowed: the request
// was refused before reaching the store.
func (e *testEnv) noWrites(before snapshot, tried bool, what string) {
	e.t.Helper()
	now := e.snapshot()
	if now.writes != before.writes || now.sent != before.sent {
		e.t.Errorf("%s wrote: %+v -> %+v", what, before, now)
	}
	if !tried && now.attempts != before.attempts {
		e.t.Errorf("%s tried to write: %+v -> %+v", what, before, now)
	}
}

// String makes a snapshot readable in failures.
func (s snapshot) String() string {
	return fmt.Sprintf("{attempts:%d writes:%d sent:%d}", s.attempts, s.writes, s.sent)
}

// verify has the user (tok) upload an identity document and the admin
// (adminTok) verify the account on it; it returns the document's upload ID.
func (e *testEnv) verify(adminTok, tok, username string) string {
	e.t.Helper()
	up := e.upload(tok, username, babysitter.UploadDocument, "application/pdf", []byte("%PDF-1.7 id of "+username))
	want[babysitter.User](e.t, e.do("POST", "/v1/users/"+username+"/uploads/"+up.ID+"/confirm", tok, nil), http.StatusOK)
	want[babysitter.User](e.t, e.do("PUT", "/v1/users/"+username+"/status", adminTok, map[string]string{"status": "VERIFIED", "uploadId": up.ID}), http.StatusOK)
	return up.ID
}
