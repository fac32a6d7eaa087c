package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

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
// load balancer's checks do not make a trace every few seconds. Unless
// trustTraceContext, the API is a public endpoint: a request's trace
// context is a link of its server span, not its parent.
func instrument(api http.Handler, tel *otelenv.Telemetry, trustTraceContext bool) http.Handler {
	if !tel.Tracing() && !tel.Metrics() {
		return api
	}
	opts := []otelhttp.Option{
		otelhttp.WithTracerProvider(tel.TracerProvider),
		otelhttp.WithMeterProvider(tel.MeterProvider),
		otelhttp.WithPropagators(tel.Propagator),
		otelhttp.WithFilter(notProbe),
	}
	if !trustTraceContext {
		opts = append(opts, otelhttp.WithPublicEndpointFn(func(*http.Request) bool { return true }))
	}
	return otelhttp.NewHandler(api, serviceName, opts...)
}

// notProbe reports whether r is an API request rather than a health or
// readiness check.
func notProbe(r *http.Request) bool {
	return r.URL.Path != "/healthz" && r.URL.Path != "/readyz"
}
