// Package lambdaotel traces the invocations of a Go Lambda function with
// OpenTelemetry and hands its request ID to babysitter's logs: a span per
// invocation, with OpenTelemetry's faas.* attributes and faas.coldstart
// on the first invocation of the execution environment, the context's
// babysitter.WithRequestID set to the AWS request ID, a "cold start" log
// line, and the telemetry flushed before the invocation returns (Lambda
// may freeze the environment as soon as it has, and never thaw it).
//
//	tel, err := otelenv.New(ctx, otelenv.Options{ServiceName: "resolver", Attributes: lambdaotel.ResourceAttributes()})
//	…
//	lambda.Start(lambdaotel.Wrap(lambda.NewHandler(router.Handle), lambdaotel.Options{
//		TracerProvider: tel.TracerProvider, Propagator: tel.Propagator, Flush: tel.ForceFlush, Logger: log,
//	}))
//
// The invocation span's parent is the trace context Lambda hands the
// function (X-Amzn-Trace-Id, the _X_AMZN_TRACE_ID of the X-Ray SDK) when
// Propagator reads X-Ray's header — OTEL_PROPAGATORS=xray with otelenv —,
// so that with active tracing the function's spans join Lambda's own
// segment in X-Ray; with W3C propagation only, each invocation starts a
// trace.
//
// It does what OpenTelemetry's contrib otellambda did; that module is
// deprecated upstream.
package lambdaotel

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/babysitter-go/babysitter"
)

// InstrumentationScope is the name of the tracer of the invocation spans.
const InstrumentationScope = "github.com/babysitter-go/babysitter/telemetry/lambdaotel"

// Triggers, the values of faas.trigger.
const (
	TriggerPubSub = "pubsub" // an SQS event source mapping
	TriggerTimer  = "timer"  // a schedule
	TriggerOther  = "other"  // an AppSync resolver, a direct Invoke
)

// traceHeader is the header of X-Ray's trace context, which the Lambda
// runtime API passes with each invocation.
const traceHeader = "X-Amzn-Trace-Id"

// Options configure Wrap. The zero value traces nothing and still sets
// the request ID.
type Options struct {
	// TracerProvider makes the invocation spans; nil or a no-op provider
	// makes none.
	TracerProvider trace.TracerProvider
	// Propagator reads the invocation's parent from X-Amzn-Trace-Id; it
	// needs X-Ray's propagator to find one. Default: none.
	Propagator propagation.TextMapPropagator
	// Flush is called after each invocation's span has ended and before
	// the invocation returns, with the invocation's deadline:
	// otelenv.Telemetry.ForceFlush. A failure is logged, not returned.
	Flush func(context.Context) error
	// Name is the span's name; default the function's name
	// (AWS_LAMBDA_FUNCTION_NAME), as OpenTelemetry's conventions name an
	// invocation span.
	Name string
	// Trigger is faas.trigger; default TriggerOther.
	Trigger string
	// Kind is the span's kind; default server (a consumer for an SQS
	// batch).
	Kind trace.SpanKind
	// Logger receives the cold start and flush failures; default
	// slog.Default(). Its lines carry the request and trace IDs
	// (babysitter.NewLogHandler).
	Logger *slog.Logger
}

// Wrap returns h traced and with the request ID in its context. Each
// Wrap is one execution environment's handler: its first invocation is
// the cold start.
func Wrap(h lambda.Handler, opts Options) lambda.Handler {
	w := &handler{next: h, opts: opts, log: opts.Logger}
	w.cold.Store(true)
	if w.log == nil {
		w.log = slog.Default()
	}
	w.log = slog.New(babysitter.NewLogHandler(w.log.Handler()))
	if w.opts.Name == "" {
		w.opts.Name = os.Getenv("AWS_LAMBDA_FUNCTION_NAME")
	}
	if w.opts.Trigger == "" {
		w.opts.Trigger = TriggerOther
	}
	if w.opts.Kind == trace.SpanKindUnspecified {
		w.opts.Kind = trace.SpanKindServer
	}
	switch opts.TracerProvider.(type) {
	case nil, tracenoop.TracerProvider:
	default:
		w.tracer = opts.TracerProvider.Tracer(InstrumentationScope)
	}
	return w
}

type handler struct {
	next   lambda.Handler
	opts   Options
	log    *slog.Logger
	tracer trace.Tracer // nil: tracing off
	cold   atomic.Bool
}

// Invoke implements lambda.Handler.
func (w *handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	cold := w.cold.Swap(false)
	lc, _ := lambdacontext.FromContext(ctx)
	if lc != nil {
		ctx = babysitter.WithRequestID(ctx, lc.AwsRequestID)
	}
	var span trace.Span
	if w.tracer != nil {
		ctx, span = w.start(ctx, lc, cold)
	}
	if cold {
		w.log.InfoContext(ctx, "cold start", "function", w.opts.Name, "coldStart", true)
	}
	out, err := w.next.Invoke(ctx, payload)
	if span == nil {
		return out, err
	}
	if err != nil {
		typ := errorType(err)
		span.SetAttributes(semconv.ErrorTypeKey.String(typ))
		span.SetStatus(codes.Error, typ)
	}
	span.End()
	w.flush(ctx)
	return out, err
}

// start begins the invocation's span.
func (w *handler) start(ctx context.Context, lc *lambdacontext.LambdaContext, cold bool) (context.Context, trace.Span) {
	parent := ctx
	if w.opts.Propagator != nil {
		if h := traceContext(ctx); h != "" {
			parent = w.opts.Propagator.Extract(ctx, propagation.MapCarrier{traceHeader: h})
		}
	}
	attrs := []attribute.KeyValue{
		semconv.FaaSTriggerKey.String(w.opts.Trigger),
		semconv.FaaSColdstart(cold),
	}
	if lc != nil {
		attrs = append(attrs, semconv.FaaSInvocationID(lc.AwsRequestID))
		if arn := lc.InvokedFunctionArn; arn != "" {
			attrs = append(attrs, semconv.CloudResourceID(arn))
			// arn:aws:lambda:region:account:function:name[:alias]
			if parts := strings.Split(arn, ":"); len(parts) > 4 && parts[4] != "" {
				attrs = append(attrs, semconv.CloudAccountID(parts[4]))
			}
		}
	}
	return w.tracer.Start(parent, w.opts.Name, trace.WithSpanKind(w.opts.Kind), trace.WithAttributes(attrs...))
}

// flush exports what the invocation recorded, within its deadline even
// when its context was cancelled.
func (w *handler) flush(ctx context.Context) {
	if w.opts.Flush == nil {
		return
	}
	fctx := context.WithoutCancel(ctx)
	var cancel context.CancelFunc
	if d, ok := ctx.Deadline(); ok {
		fctx, cancel = context.WithDeadline(fctx, d)
	} else {
		fctx, cancel = context.WithTimeout(fctx, 5*time.Second)
	}
	defer cancel()
	if err := w.opts.Flush(fctx); err != nil {
		w.log.WarnContext(ctx, "telemetry not exported", "err", err)
	}
}

// traceContext returns the invocation's X-Ray trace header: the context's
// (aws-lambda-go puts it there), else _X_AMZN_TRACE_ID.
func traceContext(ctx context.Context) string {
	if h, ok := ctx.Value("x-amzn-trace-id").(string); ok && h != "" {
		return h
	}
	return os.Getenv("_X_AMZN_TRACE_ID")
}

// errorType names a failed invocation as Lambda will: the errorType of a
// messages.InvokeResponse_Error (an AppSync resolver's GraphQL error
// type), else the error's Go type.
func errorType(err error) string {
	var ie messages.InvokeResponse_Error
	if errors.As(err, &ie) && ie.Type != "" {
		return ie.Type
	}
	var iep *messages.InvokeResponse_Error
	if errors.As(err, &iep) && iep.Type != "" {
		return iep.Type
	}
	return fmt.Sprintf("%T", err)
}

// ResourceAttributes describe the function from the variables Lambda
// sets, for otelenv.Options.Attributes: cloud.provider, cloud.platform,
// cloud.region, faas.name, faas.version, faas.instance (the log stream)
// and faas.max_memory.
func ResourceAttributes() []attribute.KeyValue {
	attrs := []attribute.KeyValue{semconv.CloudProviderAWS, semconv.CloudPlatformAWSLambda}
	for _, a := range []struct {
		env  string
		attr func(string) attribute.KeyValue
	}{
		{"AWS_REGION", semconv.CloudRegion},
		{"AWS_LAMBDA_FUNCTION_NAME", semconv.FaaSName},
		{"AWS_LAMBDA_FUNCTION_VERSION", semconv.FaaSVersion},
		{"AWS_LAMBDA_LOG_STREAM_NAME", semconv.FaaSInstance},
	} {
		if v := os.Getenv(a.env); v != "" {
			attrs = append(attrs, a.attr(v))
		}
	}
	if mb, err := strconv.Atoi(os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")); err == nil && mb > 0 {
		attrs = append(attrs, semconv.FaaSMaxMemory(mb<<20))
	}
	return attrs
}
