package babysitter

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// The keys NewLogHandler adds to a log record, in this module's camelCase
// like every other key it logs ("jobId", "messageId").
const (
	// LogKeyRequestID is the request ID of the context (WithRequestID).
	LogKeyRequestID = "requestId"
	// LogKeyTraceID is the trace ID of the context's span, 32 hex digits.
	LogKeyTraceID = "traceId"
	// LogKeySpanID is the span ID of the context's span, 16 hex digits.
	LogKeySpanID = "spanId"
)

// requestIDKey is the context key of WithRequestID.
type requestIDKey struct{}

// WithRequestID returns a context carrying a request ID: a transport sets
// the ID of the request it serves (an HTTP request's, a Lambda
// invocation's), and every line logged with that context through a
// NewLogHandler handler names it.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request ID WithRequestID put in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// NewLogHandler wraps h so that each record logged with a context (the
// slog methods ending in Context, and Log) carries the context's request
// ID (LogKeyRequestID) and, when the context holds a valid span context —
// tracing is on — its trace and span IDs (LogKeyTraceID, LogKeySpanID).
// So a log line can be found from its trace and the other way round.
// Records without those values pass through unchanged.
//
// The Service, the Decliner and the Poller wrap their loggers with it
// (once: a handler that already is one is not wrapped again), so their
// lines carry the IDs whatever logger they are given. Like any attribute
// of a record, the IDs land in the groups the logger has opened
// (Logger.WithGroup); this module's loggers open none.
func NewLogHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(*logHandler); ok {
		return h
	}
	return &logHandler{h}
}

// logHandler is NewLogHandler's handler.
type logHandler struct {
	next slog.Handler
}

// Enabled implements slog.Handler.
func (h *logHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle implements slog.Handler: it adds the context's IDs, if any, and
// passes the record on.
func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil { // slog passes what the caller gave; a nil context has no IDs
		return h.next.Handle(ctx, r)
	}
	id := RequestID(ctx)
	sc := trace.SpanContextFromContext(ctx)
	if id == "" && !sc.IsValid() {
		return h.next.Handle(ctx, r)
	}
	// A copy, so a record shared with other handlers is not changed
	// under them (slog.Record's documented rule).
	r = r.Clone()
	if id != "" {
		r.AddAttrs(slog.String(LogKeyRequestID, id))
	}
	if sc.IsValid() {
		r.AddAttrs(slog.String(LogKeyTraceID, sc.TraceID().String()), slog.String(LogKeySpanID, sc.SpanID().String()))
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logHandler{h.next.WithAttrs(attrs)}
}

// WithGroup implements slog.Handler.
func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{h.next.WithGroup(name)}
}

// withIDs returns l with a handler that adds the context's IDs, or
// slog.Default() so wrapped when l is nil.
func withIDs(l *slog.Logger) *slog.Logger {
	if l == nil {
		l = slog.Default()
	}
	if _, ok := l.Handler().(*logHandler); ok {
		return l
	}
	return slog.New(NewLogHandler(l.Handler()))
}
