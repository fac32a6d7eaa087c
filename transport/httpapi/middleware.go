package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/google/uuid"

	"github.com/babysitter-go/babysitter"
)

type ctxKey int

const logNoteKey ctxKey = iota

// logNote collects what a request's log line reports beyond the status:
// the error a handler failed with, a recovered panic. Handlers fill it in;
// the middleware writes the line, so there is exactly one per request.
type logNote struct {
	err   error
	panic any
	stack []byte
}

// noteError records err for the request's log line.
func noteError(ctx context.Context, err error) {
	if n, ok := ctx.Value(logNoteKey).(*logNote); ok {
		n.err = err
	}
}

// requestID returns the request's ID, as the middleware set it.
func requestID(ctx context.Context) string { return babysitter.RequestID(ctx) }

// validRequestID accepts a caller's X-Request-Id only if it is short and
// plain, since it goes into every log line and response header.
func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// errPanic is what a recovered panic answers with: a generic 500.
var errPanic = errors.New("the handler panicked")

// middleware gives every request an ID (the caller's X-Request-Id or a new
// one, echoed in the response), a deadline, panic recovery into a 500
// problem, and one structured log line.
//
// The ID is the context's babysitter.WithRequestID, so every line logged
// for the request through a babysitter.NewLogHandler — the Service's, this
// package's — names it, with the trace and span IDs of the request's span
// when a wrapping handler (otelhttp) traces it. The matched route is set
// on the request this handler was given too, so such a wrapper names its
// span and metrics after the route ("POST /v1/jobs/{jobId}/booking").
func (h *Handler) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		given := r
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = uuid.NewString()
		}
		w.Header().Set("X-Request-Id", id)
		note := &logNote{}
		ctx := babysitter.WithRequestID(r.Context(), id)
		ctx = context.WithValue(ctx, logNoteKey, note)
		ctx, cancel := context.WithTimeout(ctx, h.timeout)
		defer cancel()
		// The ServeMux sets the matched pattern on this very request, which
		// is how the log line below knows the route.
		r = r.WithContext(ctx)
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			v := recover()
			if v != nil && v != http.ErrAbortHandler {
				note.panic, note.stack = v, debug.Stack()
				if !rec.wroteHeader {
					h.fail(rec, r, errPanic)
				}
			}
			given.Pattern = r.Pattern
			h.logRequest(r, rec, note, time.Since(start))
			if v == http.ErrAbortHandler {
				panic(v) // net/http's way to abort a response; it handles it
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// logRequest writes the request's log line: errors for 5xx and panics,
// info otherwise.
func (h *Handler) logRequest(r *http.Request, rec *statusRecorder, note *logNote, d time.Duration) {
	status := rec.status
	if !rec.wroteHeader {
		status = http.StatusOK // nothing written: net/http answers 200 with no body
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("route", r.Pattern),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Float64("durationMs", float64(d.Microseconds())/1000),
		slog.Int64("bytes", rec.bytes),
		slog.String("remote", r.RemoteAddr),
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	if note.err != nil {
		attrs = append(attrs, slog.String("err", note.err.Error()))
	}
	if note.panic != nil {
		level = slog.LevelError
		attrs = append(attrs, slog.String("panic", fmt.Sprint(note.panic)), slog.String("stack", string(note.stack)))
	}
	// The request's own context may be cancelled by now; the line must
	// still be written. Its requestId (and traceId, spanId) come from the
	// context, through the logger's babysitter.NewLogHandler.
	h.log.LogAttrs(context.WithoutCancel(r.Context()), level, "request", attrs...)
}

// statusRecorder remembers the status and size of a response.
type statusRecorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (w *statusRecorder) WriteHeader(status int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// problemsForMux answers the requests no route takes — an unknown path
// (404) or a known path with another method (405, with Allow) — with a
// problem like every other error, instead of the ServeMux's plain text.
func (h *Handler) problemsForMux(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		// Let the mux's own handler decide between 404 and 405 (it knows
		// the allowed methods), then answer in our format.
		c := &captureWriter{header: http.Header{}}
		route.ServeHTTP(c, r)
		err := errNoRoute
		if c.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", c.header.Get("Allow"))
			err = errMethodNotAllowed
		}
		h.fail(w, r, err)
	})
}

// captureWriter records a response's status and headers and drops its body.
type captureWriter struct {
	header http.Header
	status int
}

func (c *captureWriter) Header() http.Header { return c.header }
func (c *captureWriter) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}
func (c *captureWriter) Write(b []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	return len(b), nil
}
