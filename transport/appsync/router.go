package appsync

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/babysitter-go/babysitter"
	"github.com/babysitter-go/babysitter/internal/ratelimit"
)

// Tracer is an optional tracing hook: Start opens a span named after the
// GraphQL field ("Mutation.bookNanny") and end closes it with the field's
// error (nil on success). OTelTracer is the OpenTelemetry one; adapt
// anything else (X-Ray's SDK) in a few lines.
type Tracer interface {
	Start(ctx context.Context, name string) (_ context.Context, end func(error))
}

// Options configure a Router. The zero value logs to slog.Default().
type Options struct {
	// Logger receives one record per resolved field; default slog.Default().
	// Its records carry the field's request ID (babysitter.WithRequestID:
	// AppSync's, else Lambda's) and, when the field is traced, the trace
	// and span IDs (babysitter.NewLogHandler).
	Logger *slog.Logger
	// Tracer, if set, wraps every resolved field in a span.
	Tracer Tracer
	// Now returns the current time, for derived values such as a user's
	// age; default time.Now.
	Now func() time.Time
	// BatchConcurrency bounds the fields of a batch resolved at once;
	// default 8.
	BatchConcurrency int
	// WritesPerMinute and WriteBurst limit each caller's mutations
	// (errorType RateLimited beyond them), as the HTTP API does, so that
	// one account cannot probe for taken email addresses without bound.
	// 0 writes per minute is no limit. The limit is per Router — per Lambda
	// execution environment — so it bounds a burst on one environment; a
	// WAF rate-based rule on the API bounds the whole.
	WritesPerMinute float64
	WriteBurst      int
}

// DefaultWritesPerMinute and DefaultWriteBurst are the HTTP API's default
// write limit, for routers that want the same.
const (
	DefaultWritesPerMinute = ratelimit.DefaultPerMinute
	DefaultWriteBurst      = ratelimit.DefaultBurst
)

// Router routes AppSync direct resolver events to a babysitter.Service.
type Router struct {
	svc    *babysitter.Service
	log    *slog.Logger
	tracer Tracer
	now    func() time.Time
	batch  int
	writes *ratelimit.Writes
}

// NewRouter returns a Router on svc.
func NewRouter(svc *babysitter.Service, opts Options) *Router {
	r := &Router{svc: svc, log: opts.Logger, tracer: opts.Tracer, now: opts.Now, batch: opts.BatchConcurrency,
		writes: ratelimit.New(opts.WritesPerMinute, opts.WriteBurst)}
	if r.log == nil {
		r.log = slog.Default()
	}
	r.log = slog.New(babysitter.NewLogHandler(r.log.Handler())) // request and trace IDs on each line
	if r.now == nil {
		r.now = time.Now
	}
	if r.batch <= 0 {
		r.batch = 8
	}
	return r
}

// Routes returns every field the Router resolves, sorted: the route table
// the template's resolvers and the schema are checked against.
func Routes() []Field {
	fs := make([]Field, 0, len(routes))
	for f := range routes {
		fs = append(fs, f)
	}
	slices.SortFunc(fs, func(a, b Field) int {
		return cmp.Or(cmp.Compare(a.Parent, b.Parent), cmp.Compare(a.Name, b.Name))
	})
	return fs
}

// BatchItem is one entry of the response to a batch invocation, in the
// order of the events: data, or an error AppSync attaches to that item
// alone (the per-item error shape of AppSync's Lambda batching).
type BatchItem struct {
	Data         any    `json:"data"`
	ErrorMessage string `json:"errorMessage,omitempty"`
	ErrorType    string `json:"errorType,omitempty"`
	ErrorInfo    any    `json:"errorInfo,omitempty"`
}

// Handle is the Lambda handler, for lambda.NewHandler: a JSON object is one
// resolver invocation, a JSON array a batch. A failed single invocation
// returns a messages.InvokeResponse_Error, which aws-lambda-go reports
// as is, so AppSync's GraphQL error carries our errorType. A batch never
// fails as a whole for a field's error: each item carries its own.
func (r *Router) Handle(ctx context.Context, payload json.RawMessage) (any, error) {
	payload = bytes.TrimSpace(payload)
	if len(payload) > 0 && payload[0] == '[' {
		var events []Event
		if err := json.Unmarshal(payload, &events); err != nil {
			return nil, r.badEvent(ctx, err).InvokeError()
		}
		return r.ResolveBatch(ctx, events), nil
	}
	var ev Event
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, r.badEvent(ctx, err).InvokeError()
	}
	data, e := r.Resolve(ctx, &ev)
	if e != nil {
		return nil, e.InvokeError()
	}
	return data, nil
}

func (r *Router) badEvent(ctx context.Context, err error) *Error {
	r.log.ErrorContext(ctx, "malformed AppSync event", "awsRequestId", lambdaRequestID(ctx), "err", err)
	return &Error{Type: TypeInvalidInput, Message: "malformed resolver event: " + err.Error(), Err: err}
}

// ResolveBatch resolves every event of a batch, concurrently but at most
// Options.BatchConcurrency at once, and returns one item per event in order.
func (r *Router) ResolveBatch(ctx context.Context, events []Event) []BatchItem {
	items := make([]BatchItem, len(events))
	sem := make(chan struct{}, r.batch)
	var wg sync.WaitGroup
	for i := range events {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			data, e := r.Resolve(ctx, &events[i])
			if e == nil {
				items[i] = BatchItem{Data: data}
				return
			}
			items[i] = BatchItem{ErrorMessage: e.Message, ErrorType: e.Type, ErrorInfo: e.Info}
		})
	}
	wg.Wait()
	return items
}

// Resolve resolves one field. The error, if any, is already classified; it
// has been logged.
func (r *Router) Resolve(ctx context.Context, ev *Event) (data any, e *Error) {
	start := time.Now()
	field := Field{Parent: ev.Info.ParentTypeName, Name: ev.Info.FieldName}
	actor := ev.Identity.Actor()
	requestID := ev.Request.RequestID()
	if requestID == "" {
		requestID = lambdaRequestID(ctx)
	}
	// The Service's log lines, and this package's, name the request.
	ctx = babysitter.WithRequestID(ctx, requestID)
	log := r.log.With(
		"awsRequestId", lambdaRequestID(ctx),
		"field", field.String(),
		"username", actor.Username,
		"role", string(actor.Role),
	)
	if r.tracer != nil {
		var end func(error)
		ctx, end = r.tracer.Start(ctx, field.String())
		defer func() {
			if e != nil {
				end(e)
			} else {
				end(nil)
			}
		}()
	}
	defer func() {
		if p := recover(); p != nil {
			data, e = nil, ToError(fmt.Errorf("panic: %v", p), requestID)
			log.ErrorContext(ctx, "resolver panicked", "panic", fmt.Sprint(p))
		}
	}()

	route, ok := routes[field]
	if !ok {
		e = &Error{Type: TypeInternalError, Message: fmt.Sprintf("no resolver for %s", field)}
		log.ErrorContext(ctx, "no route for field")
		return nil, e
	}
	if field.Parent == "Mutation" && actor.Username != "" {
		if wait, ok := r.writes.Allow(actor.Username); !ok {
			e = &Error{Type: TypeRateLimited, Message: fmt.Sprintf("too many writes from this caller; retry in %v", wait.Round(time.Second))}
			log.InfoContext(ctx, "resolver refused", "errorType", e.Type)
			return nil, e
		}
	}
	data, err := route(ctx, call{svc: r.svc, actor: actor, args: ev.Arguments, now: r.now()})
	elapsed := time.Since(start)
	if err == nil {
		log.InfoContext(ctx, "resolved", "durationMs", elapsed.Milliseconds())
		return data, nil
	}
	e = ToError(err, requestID)
	if e.Err == nil {
		e.Err = err
	}
	switch e.Type {
	case TypeInternalError:
		log.ErrorContext(ctx, "resolver failed", "errorType", e.Type, "durationMs", elapsed.Milliseconds(), "err", err)
	default:
		log.InfoContext(ctx, "resolver refused", "errorType", e.Type, "durationMs", elapsed.Milliseconds(), "err", err)
	}
	return nil, e
}

func lambdaRequestID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}
