package appsync

import (
	"context"
	"errors"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// InstrumentationScope is the name of OTelTracer's tracer.
const InstrumentationScope = "github.com/babysitter-go/babysitter/transport/appsync"

// OTelTracer returns the Tracer that makes an OpenTelemetry span per
// resolved field on tp: named after the field ("Mutation.bookNanny"),
// with graphql.operation.type ("query", "mutation") and, when the field
// fails, the GraphQL errorType as error.type. The Service's span for the
// field is its child. A nil or no-op tp returns nil: no tracing.
func OTelTracer(tp trace.TracerProvider) Tracer {
	switch tp.(type) {
	case nil, tracenoop.TracerProvider:
		return nil
	}
	return otelTracer{tp.Tracer(InstrumentationScope)}
}

type otelTracer struct{ tracer trace.Tracer }

func (t otelTracer) Start(ctx context.Context, name string) (context.Context, func(error)) {
	var attrs []attribute.KeyValue
	if parent, _, ok := strings.Cut(name, "."); ok {
		attrs = append(attrs, semconv.GraphQLOperationTypeKey.String(strings.ToLower(parent)))
	}
	ctx, span := t.tracer.Start(ctx, name, trace.WithAttributes(attrs...))
	return ctx, func(err error) {
		if err != nil {
			typ := TypeInternalError
			var e *Error
			if errors.As(err, &e) {
				typ = e.Type
			}
			span.SetAttributes(semconv.ErrorTypeKey.String(typ))
			span.SetStatus(codes.Error, typ)
		}
		span.End()
	}
}
