package babysitter_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/babysitter-go/babysitter"
	qmemory "github.com/babysitter-go/babysitter/queue/memory"
	smemory "github.com/babysitter-go/babysitter/store/memory"
)

// observed is an SDK TracerProvider exporting to memory and an SDK
// MeterProvider read by hand: what a test inspects.
type observed struct {
	spans  *tracetest.InMemoryExporter
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
}

func newObserved(t *testing.T, opts ...sdktrace.TracerProviderOption) *observed {
	t.Helper()
	o := &observed{spans: tracetest.NewInMemoryExporter(), reader: sdkmetric.NewManualReader()}
	o.tp = sdktrace.NewTracerProvider(append(opts, sdktrace.WithSyncer(o.spans))...)
	o.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(o.reader))
	t.Cleanup(func() {
		_ = o.tp.Shutdown(context.Background())
		_ = o.mp.Shutdown(context.Background())
	})
	return o
}

// named returns the ended spans called name, in the order they ended.
func (o *observed) named(name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range o.spans.GetSpans() {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// metrics returns the value of every data point of the module's counters
// and the count of its histograms, keyed by metric name and then by the
// point's attributes ("k=v,k=v", sorted; "" for none). It also checks
// that every metric comes from the module's instrumentation scope.
func (o *observed) metrics(t *testing.T) map[string]map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := o.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != babysitter.InstrumentationScope {
			t.Errorf("metrics from scope %q, want %q", sm.Scope.Name, babysitter.InstrumentationScope)
		}
		for _, m := range sm.Metrics {
			points := map[string]int64{}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					points[attrKey(p.Attributes)] = p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					points[attrKey(p.Attributes)] = int64(p.Count)
				}
			default:
				t.Errorf("metric %s has data of type %T", m.Name, m.Data)
			}
			out[m.Name] = points
		}
	}
	return out
}

func attrKey(s attribute.Set) string {
	var parts []string
	for _, kv := range s.ToSlice() {
		parts = append(parts, string(kv.Key)+"="+kv.Value.String())
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// sameSpan reports whether two span contexts name the same span (one may
// be the remote copy of the other).
func sameSpan(a, b trace.SpanContext) bool {
	return a.TraceID() == b.TraceID() && a.SpanID() == b.SpanID()
}

// attrs returns a span's attributes as strings.
func attrs(kvs []attribute.KeyValue) map[string]string {
	out := map[string]string{}
	for _, kv := range kvs {
		out[string(kv.Key)] = kv.Value.String()
	}
	return out
}

// flakyQueue is a queue whose next Send fails when told to.
type flakyQueue struct {
	babysitter.Queue
	failNext atomic.Bool
}

func (q *flakyQueue) Send(ctx context.Context, msgs []babysitter.Message) error {
	if q.failNext.Swap(false) {
		return errors.New("the queue is down")
	}
	return q.Queue.Send(ctx, msgs)
}

// market is the tutorial's setting on the memory backends: a verified
// parent and verified nannies.
type market struct {
	svc    *babysitter.Service
	store  *smemory.Store
	queue  *qmemory.Queue
	parent babysitter.Actor
	nanny  []babysitter.Actor
}

func newMarket(t *testing.T, nannies int, opts babysitter.Options, q babysitter.Queue) *market {
	t.Helper()
	ctx := context.Background()
	s := &market{store: smemory.New(), queue: qmemory.New(qmemory.Options{WaitTime: -1})}
	if q == nil {
		q = s.queue
	}
	opts.VerifyWithoutDocument = true
	s.svc = babysitter.New(s.store, q, opts)
	admin := babysitter.Actor{Username: "root", Role: babysitter.RoleAdmin}
	s.parent = babysitter.Actor{Username: "alice", Role: babysitter.RoleParent}
	for i := range nannies {
		s.nanny = append(s.nanny, babysitter.Actor{Username: "sitter" + strconv.Itoa(i), Role: babysitter.RoleNanny})
	}
	for _, a := range append([]babysitter.Actor{s.parent}, s.nanny...) {
		kind := babysitter.UserNanny
		if a.Role == babysitter.RoleParent {
			kind = babysitter.UserParent
		}
		if _, err := s.svc.CreateUser(ctx, a, babysitter.NewUser{Username: a.Username, Email: a.Username + "@example.com", Type: kind,
			Profile: babysitter.Profile{FirstName: a.Username, LastName: "Smith", PhoneNumber: "+4915112345678",
				DateOfBirth: babysitter.Date{Year: 1990, Month: time.April, Day: 1}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.svc.UpdateUserStatus(ctx, admin, a.Username, babysitter.StatusChange{Status: babysitter.StatusVerified}); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// job posts a job and has every nanny apply; it returns the job's ID and
// the applications' IDs, in the nannies' order.
func (s *market) postJob(t *testing.T) (string, []string) {
	t.Helper()
	ctx := context.Background()
	j, err := s.svc.CreateJob(ctx, s.parent, babysitter.JobDetails{
		JobType: babysitter.JobBabysitting, Description: "Two kids, one evening", NumberOfKids: 2,
		StartDate: babysitter.Date{Year: 2030, Month: time.June, Day: 1}, StartTime: 18 * 60,
		EndDate: babysitter.Date{Year: 2030, Month: time.June, Day: 1}, EndTime: 23 * 60,
		Address: "1 Main Street", City: "Berlin", Latitude: 52.52, Longitude: 13.405,
		Cost: babysitter.Money{Amount: 6000, Currency: "EUR"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var apps []string
	for _, n := range s.nanny {
		app, err := s.svc.ApplyToJob(ctx, n, j.ID, babysitter.NewApplication{Message: "Pick me"})
		if err != nil {
			t.Fatal(err)
		}
		apps = append(apps, app.ID)
	}
	return j.ID, apps
}

// receiveAll receives every visible message of q.
func receiveAll(t *testing.T, q *qmemory.Queue) []babysitter.Message {
	t.Helper()
	var out []babysitter.Message
	for {
		msgs, err := q.Receive(context.Background(), 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			return out
		}
		out = append(out, msgs...)
	}
}

// TestTelemetryStory plays a booking with N other applicants on the
// memory backends, with SDK providers on the Service and the Decliner:
//
//   - every Service call has its span, named after the operation, with
//     the IDs and the caller's role and no personal data;
//   - the decline message carries the booking's trace context, and the
//     consumer's span links to the BookNanny span — and, as a Poller
//     runs it (no span of its own), continues its trace;
//   - a second booking is a conflict, on its span and in the metrics;
//   - the metrics count 1 booking, N declines applied, 0 skipped, the
//     decline lag of each handling, the errors by operation and kind;
//   - a cancellation whose message is lost is logged by the Service with
//     the cancellation's trace ID, and swept (source "sweep");
//   - the Decliner's log line carries the booking's trace ID.
func TestTelemetryStory(t *testing.T) {
	const others = 3 // the applicants declined
	ctx := context.Background()
	o := newObserved(t)
	var logs logLines
	q := &flakyQueue{}
	opts := babysitter.Options{TracerProvider: o.tp, MeterProvider: o.mp, Logger: jsonLogger(&logs)}
	s := newMarket(t, others+1, opts, q)
	q.Queue = s.queue
	decliner := babysitter.NewDecliner(s.store, babysitter.DeclinerOptions{
		TracerProvider: o.tp, MeterProvider: o.mp, Logger: jsonLogger(&logs), MaxReceiveCount: 5,
	})

	jobID, apps := s.postJob(t)
	booking, err := s.svc.BookNanny(ctx, s.parent, jobID, apps[0])
	if err != nil {
		t.Fatal(err)
	}
	if booking.DeclinesQueued != 1 {
		t.Fatalf("DeclinesQueued = %d, want 1", booking.DeclinesQueued)
	}
	if _, err := s.svc.BookNanny(ctx, s.parent, jobID, apps[1]); !errors.Is(err, babysitter.ErrConflict) {
		t.Fatalf("second BookNanny: %v, want ErrConflict", err)
	}
	// A retry of the booking made succeeds and is not a second booking.
	if _, err := s.svc.BookNanny(ctx, s.parent, jobID, apps[0]); err != nil {
		t.Fatalf("retried BookNanny: %v", err)
	}
	if _, err := s.svc.GetJob(ctx, s.nanny[0], "no-such-job"); !errors.Is(err, babysitter.ErrNotFound) {
		t.Fatalf("GetJob(unknown): %v, want ErrNotFound", err)
	}
	if _, err := s.svc.GetJob(ctx, s.nanny[0], "bad#id"); !errors.Is(err, babysitter.ErrInvalidInput) {
		t.Fatalf("GetJob(bad id): %v, want ErrInvalidInput", err)
	}

	// The consumer: as a Poller runs it (no span in ctx), then the same
	// message redelivered to a consumer with a span of its own (as a
	// Lambda invocation has one). The retry's message is the third.
	msgs := receiveAll(t, s.queue)
	if len(msgs) != 2 {
		t.Fatalf("%d messages on the queue, want 2 (the booking's and its retry's)", len(msgs))
	}
	if failed := decliner.HandleBatch(ctx, msgs[:1]); len(failed) > 0 {
		t.Fatalf("HandleBatch failed %v", failed)
	}
	invocationCtx, invocation := o.tp.Tracer("test").Start(ctx, "invocation")
	if failed := decliner.HandleBatch(invocationCtx, msgs[:1]); len(failed) > 0 {
		t.Fatalf("HandleBatch (redelivery) failed %v", failed)
	}
	invocation.End()

	// A cancellation whose message is lost, finished by a sweep.
	lostJob, _ := s.postJob(t)
	q.failNext.Store(true)
	if _, err := s.svc.CancelJob(ctx, s.parent, lostJob); err != nil {
		t.Fatal(err)
	}
	sweeper := babysitter.NewDecliner(s.store, babysitter.DeclinerOptions{
		TracerProvider: o.tp, MeterProvider: o.mp, Logger: jsonLogger(&logs),
		Now: func() time.Time { return time.Now().Add(time.Hour) },
	})
	if n, err := sweeper.Sweep(ctx); n != 1 || err != nil {
		t.Fatalf("Sweep = %d, %v; want 1 job", n, err)
	}

	// Spans: one per Service call, named after it.
	var names []string
	for _, sp := range o.spans.GetSpans() {
		names = append(names, sp.Name)
	}
	count := map[string]int{}
	for _, n := range names {
		count[n]++
	}
	wantCount := map[string]int{
		"CreateUser": others + 2, "UpdateUserStatus": others + 2, "CreateJob": 2, "ApplyToJob": 2 * (others + 1),
		"BookNanny": 3, "GetJob": 2, "CancelJob": 1, "DeclineJob": 3, "Sweep": 1, "invocation": 1,
	}
	if diff := cmp.Diff(wantCount, count); diff != "" {
		t.Errorf("spans by name (-want +got):\n%s", diff)
	}

	books := o.named("BookNanny")
	book := books[0]
	if diff := cmp.Diff(map[string]string{
		"babysitter.job.id": jobID, "babysitter.application.id": apps[0], "babysitter.actor.role": "parent",
	}, attrs(book.Attributes)); diff != "" {
		t.Errorf("BookNanny span attributes (-want +got):\n%s", diff)
	}
	if book.Status.Code != codes.Unset || book.Parent.IsValid() {
		t.Errorf("BookNanny span: status %v, parent %v; want unset, none", book.Status, book.Parent)
	}
	conflict := books[1]
	if conflict.Status.Code != codes.Error || conflict.Status.Description != "conflict" || attrs(conflict.Attributes)["error.type"] != "conflict" {
		t.Errorf("conflicting BookNanny span: status %+v, attributes %v; want Error \"conflict\", error.type conflict", conflict.Status, conflict.Attributes)
	}
	if len(conflict.Events) != 0 {
		t.Errorf("conflicting BookNanny span has events %v; a domain error's message may quote personal data", conflict.Events)
	}

	// The message carries the BookNanny span's context.
	wantParent := fmt.Sprintf("00-%s-%s-01", book.SpanContext.TraceID(), book.SpanContext.SpanID())
	if got := msgs[0].Attributes["traceparent"]; got != wantParent {
		t.Errorf("decline message traceparent %q, want the BookNanny span's %q", got, wantParent)
	}

	declines := o.named("DeclineJob")
	poller, lambda, swept := declines[0], declines[1], declines[2]
	for _, d := range []tracetest.SpanStub{poller, lambda} {
		if len(d.Links) != 1 || !sameSpan(d.Links[0].SpanContext, book.SpanContext) {
			t.Errorf("DeclineJob span links %v, want one to the BookNanny span %v", d.Links, book.SpanContext)
		} else if got := attrs(d.Links[0].Attributes)["messaging.message.id"]; got != msgs[0].ID {
			t.Errorf("DeclineJob link's messaging.message.id %q, want %q", got, msgs[0].ID)
		}
		if d.SpanKind != trace.SpanKindConsumer {
			t.Errorf("DeclineJob span kind %v, want consumer", d.SpanKind)
		}
	}
	if poller.Parent.SpanID() != book.SpanContext.SpanID() || poller.SpanContext.TraceID() != book.SpanContext.TraceID() {
		t.Errorf("DeclineJob under a Poller: parent %v, trace %v; want the BookNanny span %v, in its trace", poller.Parent, poller.SpanContext.TraceID(), book.SpanContext)
	}
	if inv := o.named("invocation")[0]; lambda.Parent.SpanID() != inv.SpanContext.SpanID() {
		t.Errorf("DeclineJob under an invocation span: parent %v, want the invocation span %v", lambda.Parent, inv.SpanContext)
	}
	if diff := cmp.Diff(map[string]string{
		"babysitter.job.id": jobID, "babysitter.decline.source": "queue",
		"babysitter.declines.applied": strconv.Itoa(others), "babysitter.declines.skipped": "0",
	}, attrs(poller.Attributes)); diff != "" {
		t.Errorf("DeclineJob span attributes (-want +got):\n%s", diff)
	}
	if got := attrs(lambda.Attributes)["babysitter.declines.applied"]; got != "0" {
		t.Errorf("redelivered DeclineJob declined %s applications, want 0", got)
	}
	sweep := o.named("Sweep")[0]
	if swept.Parent.SpanID() != sweep.SpanContext.SpanID() || len(swept.Links) != 0 || attrs(swept.Attributes)["babysitter.decline.source"] != "sweep" {
		t.Errorf("swept DeclineJob: parent %v, links %v, attributes %v; want a child of the Sweep span %v, no links, source sweep",
			swept.Parent, swept.Links, swept.Attributes, sweep.SpanContext)
	}

	// No span carries a username, an email or a phone number.
	for _, sp := range o.spans.GetSpans() {
		for k, v := range attrs(sp.Attributes) {
			if strings.Contains(v, "alice") || strings.Contains(v, "sitter") || strings.Contains(v, "@") || strings.Contains(v, "+49") {
				t.Errorf("span %s attribute %s = %q: personal data", sp.Name, k, v)
			}
		}
	}

	// Metrics.
	got := o.metrics(t)
	want := map[string]map[string]int64{
		"babysitter.bookings":          {"": 1},
		"babysitter.booking.conflicts": {"": 1},
		"babysitter.declines": {
			"babysitter.decline.outcome=applied,babysitter.decline.source=queue": others,
			"babysitter.decline.outcome=skipped,babysitter.decline.source=queue": 0,
			"babysitter.decline.outcome=applied,babysitter.decline.source=sweep": others + 1,
			"babysitter.decline.outcome=skipped,babysitter.decline.source=sweep": 0,
		},
		"babysitter.decline.lag": {"": 2}, // both handlings of the message
		"babysitter.operation.errors": {
			"babysitter.operation=BookNanny,error.type=conflict":   1,
			"babysitter.operation=GetJob,error.type=not_found":     1,
			"babysitter.operation=GetJob,error.type=invalid_input": 1,
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}

	// Logs: the Service's warning about the lost message carries the
	// cancellation's trace; the consumer's line the booking's.
	cancel := o.named("CancelJob")[0]
	var warned, declinedLogged bool
	for _, l := range logs.records(t) {
		switch {
		case strings.HasPrefix(l["msg"].(string), "the decline message was not sent"):
			warned = true
			if l["traceId"] != cancel.SpanContext.TraceID().String() || l["spanId"] != cancel.SpanContext.SpanID().String() {
				t.Errorf("Service log line %v: want traceId %s, spanId %s of the CancelJob span", l, cancel.SpanContext.TraceID(), cancel.SpanContext.SpanID())
			}
		case l["msg"] == "declined applications" && l["jobId"] == jobID && !declinedLogged:
			declinedLogged = true
			if l["traceId"] != book.SpanContext.TraceID().String() || l["spanId"] != poller.SpanContext.SpanID().String() {
				t.Errorf("Decliner log line %v: want the booking's traceId %s and the DeclineJob spanId %s", l, book.SpanContext.TraceID(), poller.SpanContext.SpanID())
			}
		}
	}
	if !warned || !declinedLogged {
		t.Errorf("log lines: Service warning %v, Decliner line %v; want both:\n%v", warned, declinedLogged, logs.records(t))
	}
}

// TestTelemetryDeadLetters: a message failing at its last delivery
// (DeclinerOptions.MaxReceiveCount) is counted as dead-lettered, with the
// kind of its failure; an earlier failure is not; without a
// MaxReceiveCount nothing is counted.
func TestTelemetryDeadLetters(t *testing.T) {
	ctx := context.Background()
	o := newObserved(t)
	store := smemory.New()
	poison := babysitter.Message{ID: "m-poison", Body: []byte("{"), Attributes: map[string]string{"type": babysitter.DeclineMessageType, "version": "1"}}
	unknown := babysitter.DeclineMessage("0190a1b2-0000-7000-8000-000000000009")
	unknown.ID = "m-unknown-job"
	batch := func(receiveCount int) []babysitter.Message {
		p, u := poison, unknown
		p.ReceiveCount, u.ReceiveCount = receiveCount, receiveCount
		return []babysitter.Message{p, u}
	}
	d := babysitter.NewDecliner(store, babysitter.DeclinerOptions{TracerProvider: o.tp, MeterProvider: o.mp, Logger: discard, MaxReceiveCount: 3})
	unaware := babysitter.NewDecliner(store, babysitter.DeclinerOptions{MeterProvider: o.mp, Logger: discard})
	for _, rc := range []int{1, 2, 3} {
		if failed := d.HandleBatch(ctx, batch(rc)); len(failed) != 2 {
			t.Fatalf("HandleBatch at receive %d failed %v, want both", rc, failed)
		}
		if failed := unaware.HandleBatch(ctx, batch(rc)); len(failed) != 2 {
			t.Fatalf("HandleBatch at receive %d failed %v, want both", rc, failed)
		}
	}
	got := o.metrics(t)
	want := map[string]int64{"error.type=invalid_input": 1, "error.type=not_found": 1}
	if diff := cmp.Diff(want, got["babysitter.decline.dead_lettered"]); diff != "" {
		t.Errorf("dead-lettered (-want +got):\n%s", diff)
	}
	wantErrs := map[string]int64{
		"babysitter.operation=DeclineJob,error.type=invalid_input": 6,
		"babysitter.operation=DeclineJob,error.type=not_found":     6,
	}
	if diff := cmp.Diff(wantErrs, got["babysitter.operation.errors"]); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	// The failed job's span is an error of its kind, with no links (the
	// message carried no trace context).
	for _, sp := range o.named("DeclineJob") {
		if sp.Status.Code != codes.Error || attrs(sp.Attributes)["error.type"] != "not_found" || len(sp.Links) != 0 {
			t.Errorf("DeclineJob span of an unknown job: status %v, attributes %v, links %v", sp.Status, sp.Attributes, sp.Links)
		}
	}
}

// TestTelemetryOff: with no providers the Service starts no span and the
// context reaches the store as the caller gave it — an instrumented
// client below still sees the caller's span — and the decline message
// still carries the caller's trace context.
func TestTelemetryOff(t *testing.T) {
	o := newObserved(t)
	s := newMarket(t, 2, babysitter.Options{Logger: discard}, nil)
	jobID, apps := s.postJob(t)
	spy := &spyStore{Store: s.store}
	svc := babysitter.New(spy, s.queue, babysitter.Options{Logger: discard})
	ctx, caller := o.tp.Tracer("test").Start(context.Background(), "caller")
	if _, err := svc.BookNanny(ctx, s.parent, jobID, apps[0]); err != nil {
		t.Fatal(err)
	}
	caller.End()
	if got := spy.seen.Load(); got == nil || !got.(trace.SpanContext).Equal(caller.SpanContext()) {
		t.Errorf("the store saw span context %v, want the caller's %v", got, caller.SpanContext())
	}
	if n := len(o.spans.GetSpans()); n != 1 {
		t.Errorf("%d spans ended, want 1 (the caller's)", n)
	}
	msgs := receiveAll(t, s.queue)
	want := fmt.Sprintf("00-%s-%s-01", caller.SpanContext().TraceID(), caller.SpanContext().SpanID())
	if len(msgs) != 1 || msgs[0].Attributes["traceparent"] != want {
		t.Errorf("messages %v, want one with traceparent %s", msgs, want)
	}
}

// spyStore remembers the span context of the last BookNanny it served.
type spyStore struct {
	*smemory.Store
	seen atomic.Value
}

func (s *spyStore) BookNanny(ctx context.Context, r babysitter.BookRequest) (babysitter.Job, babysitter.Application, error) {
	s.seen.Store(trace.SpanContextFromContext(ctx))
	return s.Store.BookNanny(ctx, r)
}

// TestTelemetryXRay: with the X-Ray ID generator on the SDK's provider
// and the X-Ray propagator on both sides, the decline message carries an
// X-Amzn-Trace-Id (and no traceparent), its trace ID is an X-Ray one
// (its first 8 hex digits the epoch seconds of the booking), and the
// consumer links to the booking.
func TestTelemetryXRay(t *testing.T) {
	ctx := context.Background()
	o := newObserved(t, sdktrace.WithIDGenerator(xray.NewIDGenerator()))
	prop := xray.Propagator{}
	s := newMarket(t, 2, babysitter.Options{TracerProvider: o.tp, Propagator: prop, Logger: discard}, nil)
	jobID, apps := s.postJob(t)
	before := time.Now()
	if _, err := s.svc.BookNanny(ctx, s.parent, jobID, apps[0]); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	msgs := receiveAll(t, s.queue)
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	header := msgs[0].Attributes["X-Amzn-Trace-Id"]
	if !regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=1$`).MatchString(header) {
		t.Errorf("X-Amzn-Trace-Id %q is not an X-Ray trace header", header)
	}
	if tp, ok := msgs[0].Attributes["traceparent"]; ok {
		t.Errorf("traceparent %q with the X-Ray propagator alone", tp)
	}
	book := o.named("BookNanny")[0]
	tid := book.SpanContext.TraceID().String()
	if want := "Root=1-" + tid[:8] + "-" + tid[8:] + ";Parent=" + book.SpanContext.SpanID().String() + ";Sampled=1"; header != want {
		t.Errorf("X-Amzn-Trace-Id %q, want the BookNanny span's %q", header, want)
	}
	if secs, err := strconv.ParseInt(tid[:8], 16, 64); err != nil || secs < before.Unix()-1 || secs > after.Unix()+1 {
		t.Errorf("trace ID %s: first 8 hex digits %d, want the epoch seconds of the booking (%d–%d)", tid, secs, before.Unix(), after.Unix())
	}
	d := babysitter.NewDecliner(s.store, babysitter.DeclinerOptions{TracerProvider: o.tp, Propagator: prop, Logger: discard})
	if failed := d.HandleBatch(ctx, msgs); len(failed) > 0 {
		t.Fatalf("HandleBatch failed %v", failed)
	}
	decline := o.named("DeclineJob")[0]
	if len(decline.Links) != 1 || !sameSpan(decline.Links[0].SpanContext, book.SpanContext) {
		t.Errorf("DeclineJob links %v, want one to the BookNanny span %v", decline.Links, book.SpanContext)
	}
}

// TestErrorType: every kind has its name; wrapped errors keep it.
func TestErrorType(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{babysitter.ErrNotFound, "not_found"},
		{&babysitter.AlreadyExistsError{Field: babysitter.FieldEmail, Value: "a@b.c"}, "already_exists"},
		{&babysitter.InvalidInputError{}, "invalid_input"},
		{babysitter.Errorf(babysitter.ErrForbidden, "no"), "forbidden"},
		{fmt.Errorf("Op: %w", babysitter.ErrUnauthenticated), "unauthenticated"},
		{babysitter.Errorf(babysitter.ErrConflict, "changed: %w", context.Canceled), "conflict"},
		{fmt.Errorf("sqs: %w", context.Canceled), "canceled"},
		{context.DeadlineExceeded, "deadline_exceeded"},
		{errors.New("dynamodb: throttled"), "internal"},
	}
	for _, c := range cases {
		if got := babysitter.ErrorType(c.err); got != c.want {
			t.Errorf("ErrorType(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// TestWithoutTelemetry: an operation called with WithoutTelemetry makes
// no span and counts no error, and the store still sees the caller's
// span; the same call without it does both.
func TestWithoutTelemetry(t *testing.T) {
	for _, tc := range []struct {
		name       string
		unobserved bool
		wantSpans  []string
		wantErrors map[string]map[string]int64
	}{
		{"observed", false, []string{"GetUser", "caller"},
			map[string]map[string]int64{"babysitter.operation.errors": {"babysitter.operation=GetUser,error.type=not_found": 1}}},
		{"WithoutTelemetry", true, []string{"caller"}, map[string]map[string]int64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newObserved(t)
			svc := babysitter.New(smemory.New(), qmemory.New(qmemory.Options{}),
				babysitter.Options{Logger: discard, TracerProvider: o.tp, MeterProvider: o.mp})
			ctx, caller := o.tp.Tracer("test").Start(context.Background(), "caller")
			if tc.unobserved {
				ctx = babysitter.WithoutTelemetry(ctx)
			}
			if _, err := svc.GetUser(ctx, babysitter.Actor{}, "nobody"); !errors.Is(err, babysitter.ErrNotFound) {
				t.Fatalf("GetUser: %v, want not found", err)
			}
			caller.End()
			var names []string
			for _, s := range o.spans.GetSpans() {
				names = append(names, s.Name)
			}
			if diff := cmp.Diff(tc.wantSpans, names); diff != "" {
				t.Errorf("spans (-want +got):\n%s", diff)
			}
			got := o.metrics(t)
			for name, points := range got { // the instruments with no point yet
				if len(points) == 0 {
					delete(got, name)
				}
			}
			if diff := cmp.Diff(tc.wantErrors, got); diff != "" {
				t.Errorf("metrics (-want +got):\n%s", diff)
			}
		})
	}
}
