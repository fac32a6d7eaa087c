package babysitter

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// InstrumentationScope is the name of the tracer and the meter whose
// spans and metrics the Service and the Decliner make.
const InstrumentationScope = "github.com/babysitter-go/babysitter"

// The names of the operations the Decliner and the Eraser observe; a Service operation
// is named after its method ("BookNanny").
const (
	opDeclineJob    = "DeclineJob"
	opSweep         = "Sweep"
	opSweepErasures = "SweepErasures"
)

// Span and metric attributes. Only IDs the module makes (job and
// application IDs, which carry nothing about a person), the caller's
// role and low-cardinality names: never a username, an email, a phone
// number or an address, nor a domain error's message, which may quote
// them.
const (
	attrJobID          = attribute.Key("babysitter.job.id")
	attrApplicationID  = attribute.Key("babysitter.application.id")
	attrActorRole      = attribute.Key("babysitter.actor.role")
	attrOperation      = attribute.Key("babysitter.operation")
	attrDeclineOutcome = attribute.Key("babysitter.decline.outcome")
	attrDeclineSource  = attribute.Key("babysitter.decline.source")
	attrDeclined       = attribute.Key("babysitter.declines.applied")
	attrSkipped        = attribute.Key("babysitter.declines.skipped")
	attrSweepDue       = attribute.Key("babysitter.sweep.due")
	attrSweepDone      = attribute.Key("babysitter.sweep.done")
)

// The metrics, named in OpenTelemetry's style (dotted, lower case, the
// unit apart from the name).
const (
	metricBookings     = "babysitter.bookings"
	metricConflicts    = "babysitter.booking.conflicts"
	metricErrors       = "babysitter.operation.errors"
	metricDeclines     = "babysitter.declines"
	metricDeclineLag   = "babysitter.decline.lag"
	metricDeadLettered = "babysitter.decline.dead_lettered"
)

// The values of the error.type attribute (ErrorType).
const (
	errorTypeNotFound         = "not_found"
	errorTypeAlreadyExists    = "already_exists"
	errorTypeInvalidInput     = "invalid_input"
	errorTypeForbidden        = "forbidden"
	errorTypeUnauthenticated  = "unauthenticated"
	errorTypeConflict         = "conflict"
	errorTypeCanceled         = "canceled"
	errorTypeDeadlineExceeded = "deadline_exceeded"
	errorTypeInternal         = "internal"
)

// ErrorType names the kind of err in telemetry, as the value of the
// error.type attribute (OpenTelemetry's semantic convention) on spans and
// on the babysitter.operation.errors metric: "not_found",
// "already_exists", "invalid_input", "forbidden", "unauthenticated",
// "conflict" for the domain kinds (ErrNotFound …), "canceled" and
// "deadline_exceeded" for a context's end, and "internal" for anything
// else (a backend failure). It returns "" for a nil error. Transports may
// use it to label their own telemetry with the same words.
func ErrorType(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrNotFound):
		return errorTypeNotFound
	case errors.Is(err, ErrAlreadyExists):
		return errorTypeAlreadyExists
	case errors.Is(err, ErrInvalidInput):
		return errorTypeInvalidInput
	case errors.Is(err, ErrForbidden):
		return errorTypeForbidden
	case errors.Is(err, ErrUnauthenticated):
		return errorTypeUnauthenticated
	case errors.Is(err, ErrConflict):
		return errorTypeConflict
	case errors.Is(err, context.Canceled):
		return errorTypeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return errorTypeDeadlineExceeded
	}
	return errorTypeInternal
}

// telemetry holds what a Service or a Decliner needs to trace, meter and
// propagate. With neither provider set it does nothing at all: no span is
// started (so ctx passes to the store and the queue as the caller gave
// it, with the caller's span if any), no instrument is called, and no
// attribute is built.
type telemetry struct {
	// tracer is nil when tracing is off.
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	// metered is false when metrics are off; the instruments are then
	// no-ops that nothing calls.
	metered bool
	// on is tracer != nil || metered: there is something to do.
	on bool

	bookings, conflicts, opErrors, declines, deadLettered metric.Int64Counter
	lag                                                   metric.Float64Histogram

	// The attribute sets of the declines counter, made once.
	declineSets map[[2]string]metric.MeasurementOption
}

// newTelemetry makes the telemetry of the providers; nil providers (and
// the no-op ones of go.opentelemetry.io/otel/{trace,metric}/noop) turn
// tracing or metrics off, a nil propagator is propagation.TraceContext.
func newTelemetry(tp trace.TracerProvider, mp metric.MeterProvider, prop propagation.TextMapPropagator) *telemetry {
	t := &telemetry{prop: prop}
	if t.prop == nil {
		t.prop = propagation.TraceContext{}
	}
	switch tp.(type) {
	case nil, tracenoop.TracerProvider:
	default:
		t.tracer = tp.Tracer(InstrumentationScope)
	}
	switch mp.(type) {
	case nil, metricnoop.MeterProvider:
		mp = metricnoop.NewMeterProvider()
	default:
		t.metered = true
	}
	t.on = t.tracer != nil || t.metered
	m := mp.Meter(InstrumentationScope)
	t.bookings = counter(m, metricBookings, "{booking}",
		"Bookings made: BookNanny calls that booked a nanny (a retry of a booking already made is not counted).")
	t.conflicts = counter(m, metricConflicts, "{conflict}",
		"BookNanny calls refused with a conflict: the job or the application had changed, or the applicant may not be booked.")
	t.opErrors = counter(m, metricErrors, "{error}",
		"Failed operations, by operation (babysitter.operation) and kind of error (error.type).")
	t.declines = counter(m, metricDeclines, "{application}",
		"Applications the decline consumer and sweeper handled: declined (babysitter.decline.outcome=applied) or found changed before their write (skipped), from a message or a sweep (babysitter.decline.source).")
	t.deadLettered = counter(m, metricDeadLettered, "{message}",
		"Decline messages that failed at their last delivery (DeclinerOptions.MaxReceiveCount): the queue moves them to its dead-letter queue.")
	lag, err := m.Float64Histogram(metricDeclineLag, metric.WithUnit("s"),
		metric.WithDescription("Age of a decline message when its job's applications were declined: from the queue's SentAt to the end of the declines."),
		metric.WithExplicitBucketBoundaries(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600))
	if err != nil {
		lag, _ = metricnoop.Meter{}.Float64Histogram(metricDeclineLag)
	}
	t.lag = lag
	t.declineSets = map[[2]string]metric.MeasurementOption{}
	for _, outcome := range []string{"applied", "skipped"} {
		for _, source := range []string{"queue", "sweep"} {
			t.declineSets[[2]string{outcome, source}] = metric.WithAttributeSet(attribute.NewSet(
				attrDeclineOutcome.String(outcome), attrDeclineSource.String(source)))
		}
	}
	return t
}

// counter makes an Int64Counter, or a no-op one if the meter refuses the
// name (it cannot: the names are constants a test checks).
func counter(m metric.Meter, name, unit, desc string) metric.Int64Counter {
	c, err := m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
	if err != nil {
		c, _ = metricnoop.Meter{}.Int64Counter(name)
	}
	return c
}

// spanIDs are the IDs an operation's span carries, when they are IDs.
type spanIDs struct {
	job, application string
}

// set sets the IDs on span, leaving out what is not an ID: a span must
// not carry whatever a caller put where an ID belongs.
func (ids spanIDs) set(span trace.Span) {
	if ids.job != "" && isID(ids.job) {
		span.SetAttributes(attrJobID.String(ids.job))
	}
	if ids.application != "" && isID(ids.application) {
		span.SetAttributes(attrApplicationID.String(ids.application))
	}
}

// roleValue is the babysitter.actor.role of a: its role, "anonymous", or
// "none" for an identity without a known role (kept to these five so a
// transport's odd group name cannot spread into the attributes).
func roleValue(a Actor) string {
	switch {
	case a.Anonymous():
		return "anonymous"
	case a.Role == RoleAdmin, a.Role == RoleParent, a.Role == RoleNanny:
		return string(a.Role)
	}
	return "none"
}

// call is one observed operation: its span (nil when tracing is off) and
// the context its metrics are recorded with.
type call struct {
	t    *telemetry
	ctx  context.Context
	op   string
	span trace.Span
}

// start begins observing the operation op called by a, and returns the
// context to run it with and the function that ends it with its error:
// defer func() { end(err) }() (a closure, so err need not escape). The span (when tracing is on) is a child of ctx's span
// and named op; the returned context carries it.
//
// With telemetry off it returns ctx as it is and a function that does
// nothing, a plain function rather than a closure: the call then costs a
// test and an empty deferred call, and allocates nothing.
func (t *telemetry) start(ctx context.Context, op string, a Actor, ids spanIDs) (context.Context, func(error)) {
	if !t.on || ctx.Value(unobservedKey{}) != nil {
		return ctx, endNothing
	}
	return t.startOp(ctx, op, a, ids)
}

// unobservedKey is the context key of WithoutTelemetry.
type unobservedKey struct{}

// WithoutTelemetry returns a context whose Service operations make no span
// and count no error: for a health check's read, which is not the
// marketplace's traffic — a readiness probe's lookup of a user that does
// not exist would otherwise be a trace and a GetUser not_found every few
// seconds. The calls the operation makes to the store and the queue still
// see ctx's own span, if any.
func WithoutTelemetry(ctx context.Context) context.Context {
	return context.WithValue(ctx, unobservedKey{}, true)
}

// startOp is start with telemetry on.
func (t *telemetry) startOp(ctx context.Context, op string, a Actor, ids spanIDs) (context.Context, func(error)) {
	ctx, c := t.startCall(ctx, op)
	if c.span != nil && c.span.IsRecording() {
		c.span.SetAttributes(attrActorRole.String(roleValue(a)))
		ids.set(c.span)
	}
	return ctx, c.end
}

// startInternal is start for an operation without a caller (a Sweep).
func (t *telemetry) startInternal(ctx context.Context, op string) (context.Context, func(error)) {
	if !t.on {
		return ctx, endNothing
	}
	ctx, c := t.startCall(ctx, op)
	return ctx, c.end
}

// endNothing is the end of a call when telemetry is off.
func endNothing(error) {}

// startCall begins observing op.
func (t *telemetry) startCall(ctx context.Context, op string) (context.Context, call) {
	c := call{t: t, op: op}
	if t.tracer != nil {
		ctx, c.span = t.tracer.Start(ctx, op)
	}
	c.ctx = ctx
	return ctx, c
}

// recording returns the span of ctx when this telemetry made it and it
// records, or nil: never the caller's span, which is not ours to annotate.
func (t *telemetry) recording(ctx context.Context) trace.Span {
	if t.tracer == nil {
		return nil
	}
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		return span
	}
	return nil
}

// setIDs adds to the span of ctx, which start made, IDs known only once
// the operation made them (CreateJob's job).
func (t *telemetry) setIDs(ctx context.Context, ids spanIDs) {
	if span := t.recording(ctx); span != nil {
		ids.set(span)
	}
}

// end ends the call with its error: a failure is counted by
// operation and error.type and marks the span as an error with that type.
// Only an internal error — a backend failure, whose message comes from
// infrastructure, not from user input — is recorded on the span in full.
func (c call) end(err error) {
	if err != nil {
		c.t.countError(c.ctx, c.op, ErrorType(err))
	}
	if c.span == nil {
		return
	}
	if err != nil {
		kind := ErrorType(err)
		c.span.SetAttributes(semconv.ErrorTypeKey.String(kind))
		c.span.SetStatus(codes.Error, kind)
		if kind == errorTypeInternal {
			c.span.RecordError(err)
		}
	}
	c.span.End()
}

// countError adds one failure of op of the given error.type.
func (t *telemetry) countError(ctx context.Context, op, errorType string) {
	if t.metered {
		t.opErrors.Add(ctx, 1, metric.WithAttributes(attrOperation.String(op), semconv.ErrorTypeKey.String(errorType)))
	}
}

// add adds one to a counter when metrics are on.
func (t *telemetry) add(ctx context.Context, c metric.Int64Counter) {
	if t.metered {
		c.Add(ctx, 1)
	}
}

// inject writes ctx's trace context into the message's attributes, for
// the consumer to link its spans to.
func (t *telemetry) inject(ctx context.Context, m *Message) {
	if m.Attributes == nil {
		m.Attributes = map[string]string{}
	}
	t.prop.Inject(ctx, propagation.MapCarrier(m.Attributes))
}

// startDecline begins observing the declines of one job: from msgs, the
// job's decline messages in a batch, or from a sweep when msgs is nil.
//
// The span, "DeclineJob", links to the trace context of every message
// (the call that sent it, BookNanny or CancelJob): a batch holds messages
// of many bookings, which only links can relate to. Its parent is ctx's
// span — the consumer's own (a Lambda invocation's, a Sweep's) — and when
// ctx has none and one message brought the job, that message's context,
// so a Poller's declines continue the booking's trace.
func (t *telemetry) startDecline(ctx context.Context, jobID string, msgs []Message) (context.Context, func(error)) {
	if !t.on {
		return ctx, endNothing
	}
	c := call{t: t, op: opDeclineJob}
	if t.tracer != nil {
		var links []trace.Link
		for _, m := range msgs {
			sc := trace.SpanContextFromContext(t.prop.Extract(context.Background(), propagation.MapCarrier(m.Attributes)))
			if sc.IsValid() {
				links = append(links, trace.Link{SpanContext: sc, Attributes: []attribute.KeyValue{semconv.MessagingMessageID(m.ID)}})
			}
		}
		parent := ctx
		if len(links) == 1 && !trace.SpanContextFromContext(ctx).IsValid() {
			parent = trace.ContextWithRemoteSpanContext(ctx, links[0].SpanContext)
		}
		kind, source := trace.SpanKindConsumer, "queue"
		if msgs == nil {
			kind, source = trace.SpanKindInternal, "sweep"
		}
		ctx, c.span = t.tracer.Start(parent, opDeclineJob, trace.WithSpanKind(kind), trace.WithLinks(links...))
		if c.span.IsRecording() {
			c.span.SetAttributes(attrDeclineSource.String(source))
			spanIDs{job: jobID}.set(c.span)
		}
	}
	c.ctx = ctx
	return ctx, c.end
}

// declined records what the declines of a job did, in the context
// startDecline returned: from msgs (nil for a sweep), finished at now.
func (t *telemetry) declined(ctx context.Context, res DeclineResult, msgs []Message, now time.Time) {
	if span := t.recording(ctx); span != nil {
		span.SetAttributes(attrDeclined.Int(len(res.Declined)), attrSkipped.Int(len(res.Skipped)))
	}
	if !t.metered {
		return
	}
	source := "queue"
	if msgs == nil {
		source = "sweep"
	}
	t.declines.Add(ctx, int64(len(res.Declined)), t.declineSets[[2]string{"applied", source}])
	t.declines.Add(ctx, int64(len(res.Skipped)), t.declineSets[[2]string{"skipped", source}])
	for _, m := range msgs {
		if !m.SentAt.IsZero() {
			t.lag.Record(ctx, max(now.Sub(m.SentAt), 0).Seconds())
		}
	}
}
