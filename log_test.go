package babysitter_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/trace"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/internal/testlog"
)

// logLines is a JSON slog handler's output, safe for concurrent writers.
type logLines struct{ testlog.Buffer }

// records returns the lines logged so far, decoded, without their time.
func (l *logLines) records(t *testing.T) []map[string]any {
	t.Helper()
	out, err := l.Records()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out {
		delete(r, slog.TimeKey)
	}
	return out
}

// jsonLogger returns a logger writing JSON lines at debug level to out.
func jsonLogger(out *logLines) *slog.Logger {
	return slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// A span context as a transport's tracer would put it in a context.
var (
	testTraceID, _ = trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	testSpanID, _  = trace.SpanIDFromHex("00f067aa0ba902b7")
	testSpan       = trace.NewSpanContext(trace.SpanContextConfig{TraceID: testTraceID, SpanID: testSpanID, TraceFlags: trace.FlagsSampled})
)

// TestLogHandler: a NewLogHandler handler adds the context's request ID
// and its span's trace and span IDs, each only when there is one, keeps
// the logger's attributes and groups, and is not stacked twice.
func TestLogHandler(t *testing.T) {
	bg := context.Background()
	withReq := babysitter.WithRequestID(bg, "req-1")
	withSpan := trace.ContextWithSpanContext(bg, testSpan)
	withBoth := trace.ContextWithSpanContext(withReq, testSpan)
	unsampled := trace.ContextWithSpanContext(bg, testSpan.WithTraceFlags(0))
	invalid := trace.ContextWithSpanContext(bg, trace.SpanContext{})
	ids := map[string]any{"requestId": "req-1", "traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": "00f067aa0ba902b7"}
	only := func(keys ...string) map[string]any {
		m := map[string]any{"level": "INFO", "msg": "hello", "k": "v"}
		for _, k := range keys {
			m[k] = ids[k]
		}
		return m
	}
	cases := []struct {
		name string
		ctx  context.Context
		want map[string]any
	}{
		{"no IDs", bg, only()},
		{"request ID", withReq, only("requestId")},
		{"span", withSpan, only("traceId", "spanId")},
		{"both", withBoth, only("requestId", "traceId", "spanId")},
		{"unsampled span: still its IDs", unsampled, only("traceId", "spanId")},
		{"invalid span context", invalid, only()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out logLines
			log := slog.New(babysitter.NewLogHandler(jsonLogger(&out).Handler()))
			log.InfoContext(c.ctx, "hello", "k", "v")
			got := out.records(t)
			if diff := cmp.Diff([]map[string]any{c.want}, got); diff != "" {
				t.Errorf("log line (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("attributes, groups and levels", func(t *testing.T) {
		var out logLines
		h := slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo})
		// Wrapped twice: the second wrap must be a no-op, not a second
		// set of IDs.
		log := slog.New(babysitter.NewLogHandler(babysitter.NewLogHandler(h))).With("svc", "x").WithGroup("g")
		log.DebugContext(withBoth, "not enabled")
		log.InfoContext(withBoth, "hello", "k", "v")
		want := []map[string]any{{
			"level": "INFO", "msg": "hello", "svc": "x",
			"g": map[string]any{"k": "v", "requestId": "req-1", "traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": "00f067aa0ba902b7"},
		}}
		if diff := cmp.Diff(want, out.records(t)); diff != "" {
			t.Errorf("log lines (-want +got):\n%s", diff)
		}
	})

	t.Run("a shared record is not changed", func(t *testing.T) {
		// One record handed to two handlers, the first adding IDs: the
		// second must see the record as logged.
		var first, second logLines
		h1 := babysitter.NewLogHandler(slog.NewJSONHandler(&first, nil))
		h2 := slog.NewJSONHandler(&second, nil)
		r := slog.NewRecord(time.Now(), slog.LevelInfo, "hello", 0)
		r.AddAttrs(slog.String("k", "v"))
		for _, h := range []slog.Handler{h1, h2} {
			if err := h.Handle(withBoth, r); err != nil {
				t.Fatal(err)
			}
		}
		if diff := cmp.Diff([]map[string]any{only()}, second.records(t)); diff != "" {
			t.Errorf("the second handler's line (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]map[string]any{only("requestId", "traceId", "spanId")}, first.records(t)); diff != "" {
			t.Errorf("the first handler's line (-want +got):\n%s", diff)
		}
	})
}

// TestRequestID: what WithRequestID stores, RequestID returns; a context
// without one has "".
func TestRequestID(t *testing.T) {
	ctx := context.Background()
	if got := babysitter.RequestID(ctx); got != "" {
		t.Errorf("RequestID(background) = %q, want \"\"", got)
	}
	ctx = babysitter.WithRequestID(ctx, "a")
	if got := babysitter.RequestID(babysitter.WithRequestID(ctx, "b")); got != "b" {
		t.Errorf("RequestID after a second WithRequestID = %q, want b", got)
	}
	if got := babysitter.RequestID(ctx); got != "a" {
		t.Errorf("RequestID = %q, want a", got)
	}
}

// failingSource fails every Receive, after a short pause (so a Poller's
// retries stay few), and handles nothing else.
type failingSource struct{}

func (failingSource) Receive(ctx context.Context, _ int) ([]babysitter.Message, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(10 * time.Millisecond):
		return nil, errors.New("the queue is down")
	}
}
func (failingSource) Delete(context.Context, []babysitter.Message) error { return nil }
func (failingSource) ChangeVisibility(context.Context, babysitter.Message, time.Duration) error {
	return nil
}

// TestPollerLogsWithContext: the Poller logs with the context it runs
// on, so its lines carry the request ID of that context, even with a
// logger that was not wrapped with NewLogHandler.
func TestPollerLogsWithContext(t *testing.T) {
	var out logLines
	p := &babysitter.Poller{Source: failingSource{}, Handler: func(context.Context, []babysitter.Message) []string { return nil },
		Concurrency: 1, Logger: jsonLogger(&out)}
	ctx, cancel := context.WithCancel(babysitter.WithRequestID(context.Background(), "poller-1"))
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	waitFor(t, 10*time.Second, "a receive error logged", func() bool { return out.String() != "" })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	lines := out.records(t)
	for _, l := range lines {
		if l["requestId"] != "poller-1" {
			t.Errorf("Poller log line without the context's request ID: %v", l)
		}
	}
}
