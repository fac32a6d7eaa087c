package lambdaotel_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/telemetry/lambdaotel"
)

const arn = "arn:aws:lambda:eu-central-1:123456789012:function:resolver"

// invocation is the context aws-lambda-go gives a handler: the Lambda
// context, a deadline, and the X-Ray trace header under its string key.
func invocation(t *testing.T, requestID, traceHeader string) context.Context {
	ctx := lambdacontext.NewContext(t.Context(), &lambdacontext.LambdaContext{AwsRequestID: requestID, InvokedFunctionArn: arn})
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	t.Cleanup(cancel)
	//lint:ignore SA1029 aws-lambda-go's own key is this string
	return context.WithValue(ctx, "x-amzn-trace-id", traceHeader)
}

// One span per invocation with the faas attributes, cold start on the
// first only; the handler's context carries the span and the request ID;
// the flush runs after the span has ended; an error result marks the span.
func TestWrap(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	var logs bytes.Buffer
	var seen []string // per invocation: request ID, and whether a span was there
	var flushed []int // spans exported when each flush ran
	fail := false
	h := lambdaotel.Wrap(lambda.NewHandler(func(ctx context.Context, in json.RawMessage) (any, error) {
		seen = append(seen, babysitter.RequestID(ctx)+" "+map[bool]string{true: "span", false: "nospan"}[trace.SpanContextFromContext(ctx).IsValid()])
		if fail {
			return nil, messages.InvokeResponse_Error{Type: "Conflict", Message: "no"}
		}
		return in, nil
	}), lambdaotel.Options{
		TracerProvider: tp, Name: "resolver", Trigger: lambdaotel.TriggerOther,
		Flush:  func(context.Context) error { flushed = append(flushed, len(exp.GetSpans())); return nil },
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
	})

	for i, id := range []string{"req-1", "req-2", "req-3"} {
		fail = i == 2
		out, err := h.Invoke(invocation(t, id, ""), []byte(`{"a":1}`))
		if fail {
			var ie messages.InvokeResponse_Error
			if !errors.As(err, &ie) || ie.Type != "Conflict" {
				t.Fatalf("invocation %d: error %v: want the handler's, untouched", i, err)
			}
			continue
		}
		if err != nil || string(out) != `{"a":1}` {
			t.Fatalf("invocation %d: %s, %v", i, out, err)
		}
	}

	type got struct {
		Name, Kind, Status string
		Attrs              map[string]string
	}
	var spans []got
	for _, s := range exp.GetSpans() {
		g := got{Name: s.Name, Kind: s.SpanKind.String(), Status: s.Status.Code.String() + " " + s.Status.Description, Attrs: map[string]string{}}
		for _, kv := range s.Attributes {
			g.Attrs[string(kv.Key)] = kv.Value.String()
		}
		if s.Parent.IsValid() {
			t.Errorf("span %s has a parent %v without a trace header", s.Name, s.Parent)
		}
		spans = append(spans, g)
	}
	attrs := func(id, cold string, extra ...string) map[string]string {
		m := map[string]string{"faas.trigger": "other", "faas.coldstart": cold, "faas.invocation_id": id,
			"cloud.resource_id": arn, "cloud.account.id": "123456789012"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	want := []got{
		{"resolver", "server", "Unset ", attrs("req-1", "true")},
		{"resolver", "server", "Unset ", attrs("req-2", "false")},
		{"resolver", "server", "Error Conflict", attrs("req-3", "false", "error.type", "Conflict")},
	}
	if diff := cmp.Diff(want, spans); diff != "" {
		t.Errorf("spans (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"req-1 span", "req-2 span", "req-3 span"}, seen); diff != "" {
		t.Errorf("the handler's context (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{1, 2, 3}, flushed); diff != "" {
		t.Errorf("spans exported at each flush (-want +got):\n%s", diff)
	}
	// The cold start is logged once, with the request and trace IDs.
	var lines []map[string]any
	for l := range strings.Lines(logs.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 1 || lines[0]["msg"] != "cold start" || lines[0]["coldStart"] != true || lines[0]["requestId"] != "req-1" ||
		lines[0]["traceId"] != exp.GetSpans()[0].SpanContext.TraceID().String() {
		t.Errorf("logs:\n%s", logs.String())
	}
}

// With X-Ray's propagator, the span continues the trace Lambda passes in
// X-Amzn-Trace-Id; with W3C's alone it starts its own.
func TestParentFromXRayHeader(t *testing.T) {
	const header = "Root=1-6a1b2c3d-0123456789abcdef01234567;Parent=89abcdef01234567;Sampled=1"
	for name, tt := range map[string]struct {
		prop       propagation.TextMapPropagator
		wantParent bool
	}{
		"xray":          {propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, xray.Propagator{}), true},
		"w3c only":      {propagation.TraceContext{}, false},
		"no propagator": {nil, false},
	} {
		t.Run(name, func(t *testing.T) {
			exp := tracetest.NewInMemoryExporter()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
			h := lambdaotel.Wrap(lambda.NewHandler(func() error { return nil }), lambdaotel.Options{
				TracerProvider: tp, Propagator: tt.prop, Logger: slog.New(slog.DiscardHandler),
			})
			if _, err := h.Invoke(invocation(t, "r", header), []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
			spans := exp.GetSpans()
			if len(spans) != 1 {
				t.Fatalf("%d spans", len(spans))
			}
			s := spans[0]
			got := s.Parent.IsValid() && s.Parent.IsRemote() && s.SpanContext.TraceID().String() == "6a1b2c3d0123456789abcdef01234567" &&
				s.Parent.SpanID().String() == "89abcdef01234567"
			if got != tt.wantParent {
				t.Errorf("parent %v (trace %s): want the X-Ray header's: %v", s.Parent, s.SpanContext.TraceID(), tt.wantParent)
			}
		})
	}
}

// Off, no span: the handler still gets the request ID, and the cold start
// is still logged.
func TestWrapWithoutTracing(t *testing.T) {
	var logs bytes.Buffer
	var id string
	h := lambdaotel.Wrap(lambda.NewHandler(func(ctx context.Context) error {
		id = babysitter.RequestID(ctx)
		if trace.SpanContextFromContext(ctx).IsValid() {
			t.Error("a span without a tracer provider")
		}
		return nil
	}), lambdaotel.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if _, err := h.Invoke(invocation(t, "req-9", ""), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if id != "req-9" || !strings.Contains(logs.String(), `"requestId":"req-9"`) || !strings.Contains(logs.String(), `"msg":"cold start"`) {
		t.Errorf("request ID %q, logs %s", id, logs.String())
	}
}

func TestResourceAttributes(t *testing.T) {
	t.Setenv("AWS_REGION", "eu-central-1")
	t.Setenv("AWS_LAMBDA_FUNCTION_NAME", "babysitter-resolver")
	t.Setenv("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
	t.Setenv("AWS_LAMBDA_LOG_STREAM_NAME", "2030/01/01/[$LATEST]abc")
	t.Setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
	got := map[string]string{}
	for _, kv := range lambdaotel.ResourceAttributes() {
		got[string(kv.Key)] = kv.Value.String()
	}
	want := map[string]string{
		"cloud.provider": "aws", "cloud.platform": "aws_lambda", "cloud.region": "eu-central-1",
		"faas.name": "babysitter-resolver", "faas.version": "$LATEST", "faas.instance": "2030/01/01/[$LATEST]abc",
		"faas.max_memory": "268435456",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
