package fullstack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/internal/testenv"
	"github.com/babysitter-go/babysitter/internal/testlog"
	sqsqueue "github.com/babysitter-go/babysitter/queue/sqs"
	"github.com/babysitter-go/babysitter/store/dynamodb"
	"github.com/babysitter-go/babysitter/telemetry/awsotel"
	"github.com/babysitter-go/babysitter/transport/httpapi"
	"github.com/babysitter-go/babysitter/transport/httpapi/jwtauth"
)

// node is a span of the tree the test compares: its name and kind, the
// attributes that say what it acted on, its links (by span name), and
// its children, sorted.
type node struct {
	Name     string
	Kind     string
	Attrs    map[string]string `json:",omitempty"`
	Links    []string          `json:",omitempty"`
	Children []node            `json:",omitempty"`
}

// TestBookingTelemetry is the observability story of one booking on
// DynamoDB Local and fauxqs: BookNanny over HTTP (the API under otelhttp,
// the Service and the SDK clients traced) while the decline consumer runs
// as a Poller. The booking is one trace — the HTTP server span, the
// Service's BookNanny under it, the DynamoDB calls and the SQS send under
// that — and the consumer's DeclineJob continues it, linked to the span
// that sent its message, with its own DynamoDB calls. The metrics count
// one booking and N declines; the library's log line of the declines and
// the request's log line carry the trace's ID.
func TestBookingTelemetry(t *testing.T) {
	const others = 3 // the applicants declined
	ctx := t.Context()
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })

	// A world's fresh table and queue; the clients the Service and the
	// Decliner use here are traced, the poller's receives are not (each
	// would be a trace of its own).
	w := newWorld(t, config{})
	table, url := w.table, w.url
	store := dynamodb.New(testenv.DynamoDBClient(t, awsotel.DynamoDB(tp)), table)
	queue := sqsqueue.New(testenv.SQSClient(t, awsotel.SQS(tp)), url, sqsqueue.Options{})

	logs := &testlog.Buffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc := babysitter.New(store, queue, babysitter.Options{Logger: log, TracerProvider: tp, MeterProvider: mp, VerifyWithoutDocument: true})
	decliner := babysitter.NewDecliner(store, babysitter.DeclinerOptions{Logger: log, TracerProvider: tp, MeterProvider: mp, MaxReceiveCount: 5})
	const key = "fullstack-telemetry-key-0123456789abcdef"
	api := httpapi.New(svc, jwtauth.NewHS256(key, jwtauth.DefaultMaxLifetime), httpapi.Options{Logger: log})
	server := httptest.NewServer(otelhttp.NewHandler(api, "babysitter", otelhttp.WithTracerProvider(tp), otelhttp.WithMeterProvider(mp)))
	t.Cleanup(server.Close)

	// The market, through the Service (each call its own trace).
	w.svc = svc
	parent := w.account(babysitter.RoleParent)
	nannies := w.accounts(babysitter.RoleNanny, others+1)
	job := w.job(parent)
	apps := w.apply(job.ID, nannies)

	stop := w.run(w.poller(1, decliner.HandleBatch))
	token, err := jwtauth.MintDevToken(key, parent.Username, []string{"parent"}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"applicationId":%q}`, apps[0].ID)
	req, err := http.NewRequestWithContext(ctx, "POST", server.URL+"/v1/jobs/"+job.ID+"/booking", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", "booking-1")
	resp, err := server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("booking: %d", resp.StatusCode)
	}

	// The consumer declines the others; its span ends after its writes.
	deadline := time.Now().Add(drainTimeout)
	for !slices.ContainsFunc(spans.GetSpans(), func(s tracetest.SpanStub) bool { return s.Name == "DeclineJob" }) {
		if time.Now().After(deadline) {
			t.Fatal("no DeclineJob span: the consumer did not decline")
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	if _, st := w.statuses(job.ID); len(st[babysitter.ApplicationDeclined]) != others || len(st[babysitter.ApplicationAccepted]) != 1 {
		t.Fatalf("after the consumer: %d DECLINED, %d ACCEPTED; want %d and 1", len(st[babysitter.ApplicationDeclined]), len(st[babysitter.ApplicationAccepted]), others)
	}

	// The booking's trace, as a tree.
	var server0 tracetest.SpanStub
	for _, s := range spans.GetSpans() {
		if s.SpanKind == trace.SpanKindServer {
			server0 = s
		}
	}
	traceID := server0.SpanContext.TraceID()
	var inTrace []tracetest.SpanStub
	names := map[trace.SpanID]string{}
	for _, s := range spans.GetSpans() {
		if s.SpanContext.TraceID() == traceID {
			inTrace = append(inTrace, s)
			names[s.SpanContext.SpanID()] = s.Name
		}
	}
	queueName := path.Base(url)
	var build func(parent trace.SpanID) []node
	build = func(parent trace.SpanID) []node {
		var out []node
		for _, s := range inTrace {
			if s.Parent.SpanID() != parent {
				continue
			}
			n := node{Name: s.Name, Kind: s.SpanKind.String(), Attrs: telemetryAttrs(s.Attributes), Children: build(s.SpanContext.SpanID())}
			for _, l := range s.Links {
				if l.SpanContext.TraceID() != traceID {
					n.Links = append(n.Links, "another trace")
					continue
				}
				n.Links = append(n.Links, names[l.SpanContext.SpanID()])
			}
			out = append(out, n)
		}
		slices.SortFunc(out, func(a, b node) int { return strings.Compare(a.Name, b.Name) })
		return out
	}
	got := build(trace.SpanID{})
	ddbCall := func(op string) node {
		return node{Name: "DynamoDB." + op, Kind: "client", Attrs: map[string]string{"aws.dynamodb.table_names": fmt.Sprintf("[%q]", table)}}
	}
	want := []node{{
		Name: "POST /v1/jobs/{jobId}/booking", Kind: "server",
		Children: []node{{
			Name: "BookNanny", Kind: "internal",
			Attrs: map[string]string{"babysitter.job.id": job.ID, "babysitter.application.id": apps[0].ID, "babysitter.actor.role": "parent"},
			Children: []node{
				{
					Name: "DeclineJob", Kind: "consumer", Links: []string{"BookNanny"},
					Attrs: map[string]string{"babysitter.job.id": job.ID, "babysitter.decline.source": "queue",
						"babysitter.declines.applied": fmt.Sprint(others), "babysitter.declines.skipped": "0"},
					Children: []node{ddbCall("DeleteItem"), ddbCall("Query"), ddbCall("TransactWriteItems")},
				},
				ddbCall("BatchGetItem"), // the job, the application, the parent
				ddbCall("TransactWriteItems"),
				{Name: "SQS.SendMessageBatch", Kind: "client", Attrs: map[string]string{
					"messaging.system": "aws_sqs", "messaging.destination.name": queueName, "aws.sqs.queue.url": url}},
			},
		}},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		tree, _ := json.MarshalIndent(got, "", "  ")
		t.Errorf("the booking's trace (-want +got):\n%s\nthe tree:\n%s", diff, tree)
	}

	// The metrics of the story.
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	wantMetrics := map[string]map[string]int64{
		"babysitter.bookings": {"": 1},
		"babysitter.declines": {
			"babysitter.decline.outcome=applied,babysitter.decline.source=queue": others,
			"babysitter.decline.outcome=skipped,babysitter.decline.source=queue": 0,
		},
		"babysitter.decline.lag":       {"": 1}, // observations: one message
		"http.server.request.duration": {"http.request.method=POST,http.response.status_code=200,http.route=/v1/jobs/{jobId}/booking": 1},
	}
	if diff := cmp.Diff(wantMetrics, metricValues(rm)); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}

	// The log lines name the trace: the request's (and its ID), and the
	// library's line of the declines, with the DeclineJob span's ID.
	var decline tracetest.SpanStub
	for _, s := range inTrace {
		if s.Name == "DeclineJob" {
			decline = s
		}
	}
	type logLine struct{ Msg, RequestID, TraceID, SpanID string }
	var gotLines []logLine
	records, err := logs.Records()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range records {
		if l["msg"] == "request" || l["msg"] == "declined applications" {
			gotLines = append(gotLines, logLine{fmt.Sprint(l["msg"]), str(l["requestId"]), str(l["traceId"]), str(l["spanId"])})
		}
	}
	wantLines := []logLine{
		{"request", "booking-1", traceID.String(), server0.SpanContext.SpanID().String()},
		{"declined applications", "", traceID.String(), decline.SpanContext.SpanID().String()},
	}
	slices.SortFunc(gotLines, func(a, b logLine) int { return strings.Compare(b.Msg, a.Msg) })
	if diff := cmp.Diff(wantLines, gotLines); diff != "" {
		t.Errorf("log lines (-want +got):\n%s", diff)
	}
}

// str is a log value as a string, "" when absent.
func str(v any) string {
	s, _ := v.(string)
	return s
}

// telemetryAttrs keeps the attributes the tree compares: the module's,
// and the table, index and queue of an SDK call.
func telemetryAttrs(kvs []attribute.KeyValue) map[string]string {
	out := map[string]string{}
	for _, kv := range kvs {
		switch k := string(kv.Key); {
		case strings.HasPrefix(k, "babysitter."), strings.HasPrefix(k, "aws.dynamodb."), k == "aws.sqs.queue.url",
			k == "messaging.system", k == "messaging.destination.name":
			out[k] = kv.Value.String()
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// metricValues returns the value of every counter point and the count of
// every histogram point by metric and then by attributes ("k=v,k=v",
// sorted): the module's metrics, and otelhttp's request duration by
// method, status and route.
func metricValues(rm metricdata.ResourceMetrics) map[string]map[string]int64 {
	out := map[string]map[string]int64{}
	key := func(s attribute.Set, keep func(string) bool) string {
		var parts []string
		for _, kv := range s.ToSlice() {
			if keep(string(kv.Key)) {
				parts = append(parts, string(kv.Key)+"="+kv.Value.String())
			}
		}
		slices.Sort(parts)
		return strings.Join(parts, ",")
	}
	all := func(string) bool { return true }
	httpKeys := func(k string) bool {
		return k == "http.request.method" || k == "http.response.status_code" || k == "http.route"
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			keep := all
			switch {
			case sm.Scope.Name == babysitter.InstrumentationScope:
			case m.Name == "http.server.request.duration":
				keep = httpKeys
			default:
				continue
			}
			points := map[string]int64{}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					points[key(p.Attributes, keep)] += p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					points[key(p.Attributes, keep)] += int64(p.Count)
				}
			}
			if len(points) > 0 {
				out[m.Name] = points
			}
		}
	}
	return out
}
