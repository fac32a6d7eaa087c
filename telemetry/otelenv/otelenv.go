// Package otelenv configures OpenTelemetry from the standard OTEL_*
// environment variables, for a program that embeds babysitter: the
// providers to pass to babysitter.Options and DeclinerOptions, to the
// instrumented HTTP handler (otelhttp) and AWS SDK clients
// (telemetry/awsotel), and to the Lambda wrapper (telemetry/lambdaotel).
// examples/http and the Lambda functions of examples/lambda use it.
//
// Nothing is exported, and nothing touches the network, unless the
// environment asks for it: an OTLP endpoint
// (OTEL_EXPORTER_OTLP_ENDPOINT, or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT /
// OTEL_EXPORTER_OTLP_METRICS_ENDPOINT for one signal) turns on the OTLP/HTTP
// exporter of that signal, and OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER
// choose explicitly ("otlp", "console" to print to stdout, "none"). With
// neither, the providers are the no-op ones, which the library treats as
// telemetry off (no span, no instrument call, no allocation).
//
// Unlike the OpenTelemetry specification's default, an unset
// OTEL_TRACES_EXPORTER does not mean "otlp to localhost:4318": a program
// that was given no endpoint sends nothing rather than failing exports to
// a collector that is not there.
//
// The variables read here, besides those the exporters and the SDK read
// themselves (endpoints, headers, timeouts, OTEL_TRACES_SAMPLER, OTEL_BSP_*,
// OTEL_METRIC_EXPORT_INTERVAL, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES):
//
//	OTEL_SDK_DISABLED        "true": nothing at all
//	OTEL_TRACES_EXPORTER     otlp, console, none (a comma-separated list)
//	OTEL_METRICS_EXPORTER    otlp, console, none
//	OTEL_EXPORTER_OTLP_PROTOCOL, _TRACES_PROTOCOL, _METRICS_PROTOCOL
//	                         http/protobuf (default); http/json for traces;
//	                         grpc is not built in and refused
//	OTEL_PROPAGATORS         tracecontext, baggage (the default), xray, none
//
// "xray" (or Options.XRay) adds AWS X-Ray's X-Amzn-Trace-Id propagator and
// makes trace IDs in X-Ray's format (a timestamp in the first 32 bits), so
// that spans can join the traces of X-Ray and the services that propagate
// its header (Lambda with active tracing, API Gateway, SQS).
package otelenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// Options configure New. The zero value reads the environment alone.
type Options struct {
	// ServiceName is the resource's service.name unless
	// OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES name one.
	ServiceName string
	// Attributes are added to the resource (a Lambda function's cloud.*
	// and faas.*: lambdaotel.ResourceAttributes); the environment's
	// OTEL_RESOURCE_ATTRIBUTES win over them.
	Attributes []attribute.KeyValue
	// XRay adds X-Ray's propagator and ID format, as "xray" in
	// OTEL_PROPAGATORS does.
	XRay bool
	// Stdout is where the console exporters write; default os.Stdout.
	Stdout io.Writer
}

// Telemetry is what New configured: the providers and the propagator to
// hand to everything that traces and meters, and the flush and shutdown
// of whatever exports. Its providers are never nil.
type Telemetry struct {
	// TracerProvider is the SDK's when spans are exported, else a no-op
	// provider.
	TracerProvider trace.TracerProvider
	// MeterProvider is the SDK's when metrics are exported, else a no-op
	// provider.
	MeterProvider metric.MeterProvider
	// Propagator reads and writes the trace context of requests and
	// messages (OTEL_PROPAGATORS).
	Propagator propagation.TextMapPropagator

	tp *sdktrace.TracerProvider
	mp *sdkmetric.MeterProvider
}

// Tracing reports whether spans are exported.
func (t *Telemetry) Tracing() bool { return t.tp != nil }

// Metrics reports whether metrics are exported.
func (t *Telemetry) Metrics() bool { return t.mp != nil }

// ForceFlush exports what has been recorded and not exported yet: a
// Lambda function calls it before each invocation returns, since the
// environment may be frozen, or never thawed, afterwards.
func (t *Telemetry) ForceFlush(ctx context.Context) error {
	var errs []error
	if t.tp != nil {
		errs = append(errs, t.tp.ForceFlush(ctx))
	}
	if t.mp != nil {
		errs = append(errs, t.mp.ForceFlush(ctx))
	}
	return errors.Join(errs...)
}

// Shutdown flushes and stops the exporters; the providers record nothing
// afterwards. Call it once, when the program stops.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	var errs []error
	if t.tp != nil {
		errs = append(errs, t.tp.Shutdown(ctx))
	}
	if t.mp != nil {
		errs = append(errs, t.mp.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// Environment variables read here (the exporters read their own).
const (
	envSDKDisabled     = "OTEL_SDK_DISABLED"
	envTracesExporter  = "OTEL_TRACES_EXPORTER"
	envMetricsExporter = "OTEL_METRICS_EXPORTER"
	envPropagators     = "OTEL_PROPAGATORS"
	envEndpoint        = "OTEL_EXPORTER_OTLP_ENDPOINT"
	envProtocol        = "OTEL_EXPORTER_OTLP_PROTOCOL"
)

// signal is what differs between traces and metrics in the environment.
type signal struct {
	name         string // "traces", "metrics"
	exporterVar  string
	endpointVar  string
	protocolVar  string
	protocols    []string // the OTLP protocols built in
	defaultProto string
}

var (
	traces = signal{"traces", envTracesExporter, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
		[]string{"http/protobuf", "http/json"}, "http/protobuf"}
	metrics = signal{"metrics", envMetricsExporter, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
		[]string{"http/protobuf"}, "http/protobuf"}
)

// exporters returns the exporters the environment asks for, "otlp" and
// "console", each at most once: the variable's list, or "otlp" when it is
// unset and an OTLP endpoint for the signal is.
func (s signal) exporters() ([]string, error) {
	v := strings.TrimSpace(os.Getenv(s.exporterVar))
	if v == "" {
		if os.Getenv(s.endpointVar) != "" || os.Getenv(envEndpoint) != "" {
			return []string{"otlp"}, nil
		}
		return nil, nil
	}
	var out []string
	for name := range strings.SplitSeq(v, ",") {
		switch name = strings.TrimSpace(name); name {
		case "none":
			return nil, nil // "none" wins, as the specification says
		case "otlp", "console":
			if !slices.Contains(out, name) {
				out = append(out, name)
			}
		default:
			return nil, fmt.Errorf("%s=%q: %q is not an exporter built in here (otlp, console, none)", s.exporterVar, v, name)
		}
	}
	return out, nil
}

// protocol returns the OTLP protocol of the signal, refusing what the
// exporters here do not speak.
func (s signal) protocol() (string, error) {
	name, v := s.protocolVar, os.Getenv(s.protocolVar)
	if v == "" {
		name, v = envProtocol, os.Getenv(envProtocol)
	}
	if v == "" {
		return s.defaultProto, nil
	}
	if !slices.Contains(s.protocols, v) {
		return "", fmt.Errorf("%s=%q: the %s exporter here speaks %s only", name, v, s.name, strings.Join(s.protocols, " and "))
	}
	return v, nil
}

// New configures OpenTelemetry from the environment. It makes no network
// connection: exporters connect when they first export. Its error names
// the variable whose value it cannot use.
func New(ctx context.Context, opts Options) (*Telemetry, error) {
	prop, useXRay, err := propagator(opts.XRay)
	if err != nil {
		return nil, err
	}
	t := &Telemetry{
		TracerProvider: tracenoop.NewTracerProvider(),
		MeterProvider:  metricnoop.NewMeterProvider(),
		Propagator:     prop,
	}
	if disabled, _ := strconv.ParseBool(os.Getenv(envSDKDisabled)); disabled {
		return t, nil
	}
	traceExporters, err := traces.exporters()
	if err != nil {
		return nil, err
	}
	metricExporters, err := metrics.exporters()
	if err != nil {
		return nil, err
	}
	if len(traceExporters) == 0 && len(metricExporters) == 0 {
		return t, nil
	}
	stdout := opts.Stdout
	if stdout == nil {
		stdout = os.Stdout
	}
	res, err := newResource(ctx, opts)
	if err != nil {
		return nil, err
	}

	if len(traceExporters) > 0 {
		topts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
		if useXRay {
			topts = append(topts, sdktrace.WithIDGenerator(xray.NewIDGenerator()))
		}
		for _, name := range traceExporters {
			exp, err := traceExporter(ctx, name, stdout)
			if err != nil {
				return nil, err
			}
			topts = append(topts, sdktrace.WithBatcher(exp))
		}
		// The sampler comes from OTEL_TRACES_SAMPLER (default: parent
		// based, always on), read by the SDK.
		t.tp = sdktrace.NewTracerProvider(topts...)
		t.TracerProvider = t.tp
	}
	if len(metricExporters) > 0 {
		mopts := []sdkmetric.Option{sdkmetric.WithResource(res)}
		for _, name := range metricExporters {
			exp, err := metricExporter(ctx, name, stdout)
			if err != nil {
				return nil, errors.Join(err, t.Shutdown(ctx))
			}
			// The interval comes from OTEL_METRIC_EXPORT_INTERVAL.
			mopts = append(mopts, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp)))
		}
		t.mp = sdkmetric.NewMeterProvider(mopts...)
		t.MeterProvider = t.mp
	}
	return t, nil
}

// newResource describes the program: the options' service name and
// attributes, the SDK's name and version, and the environment's
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, which win.
func newResource(ctx context.Context, opts Options) (*resource.Resource, error) {
	attrs := slices.Clone(opts.Attributes)
	if opts.ServiceName != "" {
		attrs = append(attrs, semconv.ServiceName(opts.ServiceName))
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attrs...),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(), // last: the environment wins
		resource.WithSchemaURL(semconv.SchemaURL),
	)
	if err != nil {
		return nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	return res, nil
}

func traceExporter(ctx context.Context, name string, stdout io.Writer) (sdktrace.SpanExporter, error) {
	if name == "console" {
		return stdouttrace.New(stdouttrace.WithWriter(stdout))
	}
	proto, err := traces.protocol()
	if err != nil {
		return nil, err
	}
	enc := otlptracehttp.EncodingProtobuf
	if proto == "http/json" {
		enc = otlptracehttp.EncodingJSON
	}
	// The exporter reads the endpoint, headers, timeout, compression and
	// certificates from the OTEL_EXPORTER_OTLP_* variables itself.
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEncoding(enc))
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	return exp, nil
}

func metricExporter(ctx context.Context, name string, stdout io.Writer) (sdkmetric.Exporter, error) {
	if name == "console" {
		return stdoutmetric.New(stdoutmetric.WithWriter(stdout))
	}
	if _, err := metrics.protocol(); err != nil {
		return nil, err
	}
	exp, err := otlpmetrichttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("OTLP metric exporter: %w", err)
	}
	return exp, nil
}

// propagator returns the propagator OTEL_PROPAGATORS names (W3C trace
// context and baggage by default) with X-Ray's added when forced, and
// whether X-Ray's is in it.
func propagator(forceXRay bool) (propagation.TextMapPropagator, bool, error) {
	v := strings.TrimSpace(os.Getenv(envPropagators))
	if v == "" {
		v = "tracecontext,baggage"
	}
	var (
		props []propagation.TextMapPropagator
		names []string
	)
	add := func(name string, p propagation.TextMapPropagator) {
		if !slices.Contains(names, name) {
			names = append(names, name)
			props = append(props, p)
		}
	}
	for name := range strings.SplitSeq(v, ",") {
		switch name = strings.TrimSpace(name); name {
		case "tracecontext":
			add(name, propagation.TraceContext{})
		case "baggage":
			add(name, propagation.Baggage{})
		case "xray":
			add(name, xray.Propagator{})
		case "none":
			props, names = nil, nil
		default:
			return nil, false, fmt.Errorf("%s=%q: %q is not a propagator built in here (tracecontext, baggage, xray, none)", envPropagators, v, name)
		}
		if name == "none" {
			break
		}
	}
	if forceXRay {
		add("xray", xray.Propagator{})
	}
	return propagation.NewCompositeTextMapPropagator(props...), slices.Contains(names, "xray"), nil
}
