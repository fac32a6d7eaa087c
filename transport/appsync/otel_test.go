package appsync

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/go-cmp/cmp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/babysitter-go/babysitter"
	qmemory "github.com/babysitter-go/babysitter/queue/memory"
	smemory "github.com/babysitter-go/babysitter/store/memory"
)

// TestOTelTracerAndLogs: a span per field with the Service's span under
// it, the errorType on a refused field, and the field's log line with
// AppSync's request ID (else Lambda's), Lambda's, and the field span's IDs.
func TestOTelTracerAndLogs(t *testing.T) {
	if OTelTracer(nil) != nil || OTelTracer(tracenoop.NewTracerProvider()) != nil {
		t.Error("OTelTracer traces without a provider")
	}
	for _, tc := range []struct {
		name, headers string
		wantRequestID string
	}{
		{"AppSync's request ID", `{"x-amzn-requestid":"appsync-req-1"}`, "appsync-req-1"},
		{"Lambda's when AppSync's is missing", `{}`, "lambda-req-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exp := tracetest.NewInMemoryExporter()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
			var logs bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&logs, nil))
			svc := babysitter.New(smemory.New(), qmemory.New(qmemory.Options{}), babysitter.Options{TracerProvider: tp, Logger: log})
			r := NewRouter(svc, Options{Logger: log, Tracer: OTelTracer(tp)})

			ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "lambda-req-1"})
			ev := `{"arguments":{"username":"nobody"},"identity":null,"info":{"parentTypeName":"Query","fieldName":"getUser"},` +
				`"request":{"headers":` + tc.headers + `}}`
			if _, err := r.Handle(ctx, json.RawMessage(ev)); err == nil {
				t.Fatal("want NotFound")
			}

			spans := exp.GetSpans()
			if len(spans) != 2 {
				t.Fatalf("%d spans, want the field's and the Service's: %v", len(spans), spans)
			}
			op, field := spans[0], spans[1] // in the order they ended
			type summary struct {
				Name, Parent string
				Attrs        map[string]string
				Status       string
			}
			sum := func(s tracetest.SpanStub, attrs bool) summary {
				out := summary{Name: s.Name, Parent: s.Parent.SpanID().String(), Status: s.Status.Description}
				if attrs {
					out.Attrs = map[string]string{}
					for _, kv := range s.Attributes {
						out.Attrs[string(kv.Key)] = kv.Value.String()
					}
				}
				return out
			}
			got := []summary{sum(field, true), sum(op, false)}
			want := []summary{
				{Name: "Query.getUser", Parent: "0000000000000000", Status: TypeNotFound,
					Attrs: map[string]string{"graphql.operation.type": "query", "error.type": TypeNotFound}},
				{Name: "GetUser", Parent: field.SpanContext.SpanID().String(), Status: "not_found"},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("spans (-want +got):\n%s", diff)
			}

			var line map[string]any
			if err := json.Unmarshal([]byte(strings.TrimSpace(logs.String())), &line); err != nil {
				t.Fatalf("log %q: %v", logs.String(), err)
			}
			for _, k := range []string{"time", "level", "durationMs", "err", "username", "role"} {
				delete(line, k)
			}
			wantLine := map[string]any{
				"msg": "resolver refused", "errorType": TypeNotFound, "field": "Query.getUser",
				"requestId": tc.wantRequestID, "awsRequestId": "lambda-req-1",
				"traceId": field.SpanContext.TraceID().String(), "spanId": field.SpanContext.SpanID().String(),
			}
			if diff := cmp.Diff(wantLine, line); diff != "" {
				t.Errorf("log line (-want +got):\n%s", diff)
			}
			if n := strings.Count(logs.String(), `"requestId"`); n != 1 {
				t.Errorf("requestId %d times: %s", n, logs.String())
			}
		})
	}
}
