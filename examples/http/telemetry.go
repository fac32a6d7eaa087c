package main

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/babysitter-go/babysitter/telemetry/otelenv"
)

// serviceName is the OpenTelemetry service.name of the server, unless
// OTEL_SERVICE_NAME names another.
const serviceName = "babysitter-http"

// newTelemetry configures OpenTelemetry from the OTEL_* variables
// (telemetry/otelenv): with OTEL_EXPORTER_OTLP_ENDPOINT set, the server
// exports its spans and metrics over OTLP/HTTP; without, it exports
// nothing and the library's instrumentation is off.
func newTelemetry(ctx context.Context, log *slog.Logger) (*otelenv.Telemetry, error) {
	tel, err := otelenv.New(ctx, otelenv.Options{ServiceName: serviceName})
	if err != nil {
		return nil, err
	}
	if tel.Tracing() || tel.Metrics() {
		log.Info("exporting telemetry", "traces", tel.Tracing(), "metrics", tel.Metrics())
	}
	return tel, nil
}

// shutdownTelemetry exports what is left and stops the exporters, once
// everything that records — the HTTP server, the poller, the sweeper —
// has stopped. A collector that is gone costs the spans, not the exit
// code.
func shutdownTelemetry(ctx context.Context, tel *otelenv.Telemetry, timeout time.Duration, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := tel.Shutdown(ctx); err != nil {
		log.Warn("telemetry not exported", "err", err)
	}
}

// instrument wraps the API in otelhttp when telemetry is on: a server
// span per request, named after its route ("POST /v1/jobs/{jobId}/booking",
// which the API hands back), the parent of the Service's span, and
// OpenTelemetry's HTTP server metrics. The probes are left out, so that a
// load balancer's checks do not make a trace every few seconds.
//
// The server span records no personal data (redacted): not the request's
// path, whose segments name users (/v1/users/{username}) — the route
// stands for it — nor the client's address or user agent. Unless
// trustTraceContext, the API is a public endpoint: a request's trace
// context is a link of its server span, not its parent, and its W3C
// baggage is dropped, so a client's bytes never ride along into the
// decline messages.
func instrument(api http.Handler, tel *otelenv.Telemetry, trustTraceContext bool) http.Handler {
	if !tel.Tracing() && !tel.Metrics() {
		return api
	}
	opts := []otelhttp.Option{
		otelhttp.WithTracerProvider(redacting{tel.TracerProvider}),
		otelhttp.WithMeterProvider(tel.MeterProvider),
		otelhttp.WithPropagators(tel.Propagator),
		otelhttp.WithFilter(notProbe),
	}
	if trustTraceContext {
		return otelhttp.NewHandler(api, serviceName, opts...)
	}
	opts = append(opts, otelhttp.WithPublicEndpointFn(func(*http.Request) bool { return true }))
	h := otelhttp.NewHandler(api, serviceName, opts...)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := r.Header["Baggage"]; ok {
			r = r.Clone(r.Context())
			r.Header.Del("Baggage")
		}
		h.ServeHTTP(w, r)
	})
}

// personal are the attributes otelhttp sets on a server span that may
// identify a person: the path (it names users), the client's address and
// port, its user agent.
var personal = map[attribute.Key]bool{
	semconv.URLPathKey:            true,
	semconv.ClientAddressKey:      true,
	semconv.NetworkPeerAddressKey: true,
	semconv.NetworkPeerPortKey:    true,
	semconv.UserAgentOriginalKey:  true,
}

// redacting is a TracerProvider whose spans start without the personal
// attributes; everything else passes through.
type redacting struct{ trace.TracerProvider }

func (p redacting) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return redactingTracer{p.TracerProvider.Tracer(name, opts...)}
}

type redactingTracer struct{ trace.Tracer }

func (t redactingTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	cfg := trace.NewSpanStartConfig(opts...)
	attrs := slices.DeleteFunc(cfg.Attributes(), func(kv attribute.KeyValue) bool { return personal[kv.Key] })
	out := []trace.SpanStartOption{
		trace.WithAttributes(attrs...), trace.WithLinks(cfg.Links()...), trace.WithSpanKind(cfg.SpanKind()),
	}
	if !cfg.Timestamp().IsZero() {
		out = append(out, trace.WithTimestamp(cfg.Timestamp()))
	}
	if cfg.NewRoot() {
		out = append(out, trace.WithNewRoot())
	}
	return t.Tracer.Start(ctx, name, out...)
}

// notProbe reports whether r is an API request rather than a health or
// readiness check.
func notProbe(r *http.Request) bool {
	return r.URL.Path != "/healthz" && r.URL.Path != "/readyz"
}
