package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/internal/testlog"
	memqueue "github.com/babysitter-go/babysitter/queue/memory"
	memstore "github.com/babysitter-go/babysitter/store/memory"
	"github.com/babysitter-go/babysitter/transport/httpapi/jwtauth"
)

// TestTelemetry: under otelhttp, the server span is named after the
// route, the Service's span is its child, and the request's log line
// carries the request ID and the span's trace and span IDs.
func TestTelemetry(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	logs := &testlog.Buffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	svc := babysitter.New(memstore.New(), memqueue.New(memqueue.Options{}), babysitter.Options{TracerProvider: tp, Logger: log})
	api := New(svc, jwtauth.NewHS256(testKey, jwtauth.DefaultMaxLifetime), Options{Logger: log})
	h := otelhttp.NewHandler(api, "babysitter", otelhttp.WithTracerProvider(tp))

	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/v1/users/nobody", nil)
	req.Header.Set("X-Request-Id", "req-otel-1")
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotFound {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}

	spans := exp.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want the Service's and the server's: %v", len(spans), spans)
	}
	op, server := spans[0], spans[1]
	if server.Name != "GET /v1/users/{username}" || op.Name != "GetUser" {
		t.Errorf("span names %q, %q", server.Name, op.Name)
	}
	if op.Parent.SpanID() != server.SpanContext.SpanID() || op.SpanContext.TraceID() != server.SpanContext.TraceID() {
		t.Errorf("GetUser's parent %v, want the server span %v", op.Parent, server.SpanContext)
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(logs.String())), &line); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	if line["msg"] != "request" || line["requestId"] != "req-otel-1" ||
		line["traceId"] != server.SpanContext.TraceID().String() || line["spanId"] != server.SpanContext.SpanID().String() {
		t.Errorf("log line %v: want the request ID and the server span's IDs", line)
	}
	if strings.Count(logs.String(), `"requestId"`) != 1 {
		t.Errorf("requestId twice in %s", logs.String())
	}

	// The readiness probe reads through the Service without telemetry:
	// the server span alone.
	exp.Reset()
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("readyz %d: %s", rec.Code, rec.Body)
	}
	var names []string
	for _, s := range exp.GetSpans() {
		names = append(names, s.Name)
	}
	if diff := cmp.Diff([]string{"GET /readyz"}, names); diff != "" {
		t.Errorf("readyz spans (-want +got):\n%s", diff)
	}
}
