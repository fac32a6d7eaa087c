package otelenv_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/attribute"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/babysitter-go/babysitter/internal/otlptest"
	"github.com/babysitter-go/babysitter/telemetry/otelenv"
)

// otelVars are every variable these tests set; each test starts with all
// of them empty, whatever the environment running the tests has.
var otelVars = []string{
	"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_METRICS_EXPORTER", "OTEL_PROPAGATORS",
	"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
	"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
	"OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_TRACES_SAMPLER",
}

func setenv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, k := range otelVars {
		t.Setenv(k, env[k])
	}
}

// newTelemetry runs New with env and shuts it down at the end of the test.
func newTelemetry(t *testing.T, env map[string]string, opts otelenv.Options) *otelenv.Telemetry {
	t.Helper()
	setenv(t, env)
	tel, err := otelenv.New(t.Context(), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := tel.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return tel
}

// Without an endpoint or an exporter named, nothing is exported: the
// providers are the no-op ones, which babysitter treats as telemetry off.
func TestOffByDefault(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"nothing set":    nil,
		"sdk disabled":   {"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"},
		"exporters none": {"OTEL_TRACES_EXPORTER": "none", "OTEL_METRICS_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1"},
		"only sampler":   {"OTEL_TRACES_SAMPLER": "always_on", "OTEL_SERVICE_NAME": "x"},
	} {
		t.Run(name, func(t *testing.T) {
			tel := newTelemetry(t, env, otelenv.Options{ServiceName: "test"})
			if tel.Tracing() || tel.Metrics() {
				t.Errorf("Tracing %v, Metrics %v: want both off", tel.Tracing(), tel.Metrics())
			}
			if _, ok := tel.TracerProvider.(tracenoop.TracerProvider); !ok {
				t.Errorf("TracerProvider is %T, want the no-op one", tel.TracerProvider)
			}
			if _, ok := tel.MeterProvider.(metricnoop.MeterProvider); !ok {
				t.Errorf("MeterProvider is %T, want the no-op one", tel.MeterProvider)
			}
			if err := tel.ForceFlush(t.Context()); err != nil {
				t.Errorf("ForceFlush: %v", err)
			}
		})
	}
}

// An endpoint turns on OTLP/HTTP for both signals: spans and metrics
// arrive at the receiver with the resource's service name, from the
// environment when it names one.
func TestOTLPEndpoint(t *testing.T) {
	tests := []struct {
		name        string
		env         map[string]string
		wantService string
		wantTraces  bool
		wantMetrics bool
	}{
		{"generic endpoint", map[string]string{}, "test-service", true, true},
		{"json traces", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"}, "test-service", true, true},
		{"service name from env", map[string]string{"OTEL_SERVICE_NAME": "from-env"}, "from-env", true, true},
		{"traces only", map[string]string{"OTEL_METRICS_EXPORTER": "none"}, "test-service", true, false},
		{"metrics only", map[string]string{"OTEL_TRACES_EXPORTER": "none"}, "test-service", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcv, err := otlptest.Start()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { rcv.Close() }) // after the Shutdown newTelemetry registers
			tt.env["OTEL_EXPORTER_OTLP_ENDPOINT"] = rcv.URL
			tel := newTelemetry(t, tt.env, otelenv.Options{ServiceName: "test-service", Attributes: []attribute.KeyValue{attribute.String("faas.name", "fn")}})
			if tel.Tracing() != tt.wantTraces || tel.Metrics() != tt.wantMetrics {
				t.Fatalf("Tracing %v, Metrics %v", tel.Tracing(), tel.Metrics())
			}
			_, span := tel.TracerProvider.Tracer("test").Start(t.Context(), "op")
			span.End()
			c, err := tel.MeterProvider.Meter("test").Int64Counter("test.count")
			if err != nil {
				t.Fatal(err)
			}
			c.Add(t.Context(), 3)
			if err := tel.ForceFlush(t.Context()); err != nil {
				t.Fatalf("ForceFlush: %v", err)
			}
			if err := rcv.Err(); err != nil {
				t.Fatal(err)
			}
			spans := rcv.Spans()
			if !tt.wantTraces {
				if len(spans) != 0 || rcv.Requests("/v1/traces") != 0 {
					t.Errorf("traces exported: %v", spans)
				}
			} else if len(spans) != 1 || spans[0].Name != "op" || spans[0].Resource["service.name"] != tt.wantService || spans[0].Resource["faas.name"] != "fn" {
				t.Errorf("spans %+v", spans)
			}
			metrics := rcv.Metrics()
			if !tt.wantMetrics {
				if rcv.Requests("/v1/metrics") != 0 {
					t.Errorf("metrics exported: %v", metrics)
				}
			} else if len(metrics) != 1 || metrics[0].Name != "test.count" || metrics[0].Int != 3 || metrics[0].Resource["service.name"] != tt.wantService {
				t.Errorf("metrics %+v", metrics)
			}
		})
	}
}

// OTEL_TRACES_EXPORTER=console prints the spans: the way to see traces
// with nothing else running.
func TestConsoleExporter(t *testing.T) {
	var out bytes.Buffer
	tel := newTelemetry(t, map[string]string{"OTEL_TRACES_EXPORTER": "console"}, otelenv.Options{ServiceName: "test", Stdout: &out})
	if !tel.Tracing() || tel.Metrics() {
		t.Fatalf("Tracing %v, Metrics %v", tel.Tracing(), tel.Metrics())
	}
	_, span := tel.TracerProvider.Tracer("test").Start(t.Context(), "BookNanny")
	span.End()
	if err := tel.ForceFlush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"Name":"BookNanny"`) {
		t.Errorf("console output:\n%s", out.String())
	}
}

// Values the exporters here cannot honour are refused, naming the
// variable, rather than ignored.
func TestRefusesWhatIsNotBuiltIn(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER"},
		{map[string]string{"OTEL_METRICS_EXPORTER": "prometheus"}, "OTEL_METRICS_EXPORTER"},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL": "http/json"}, "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"},
		{map[string]string{"OTEL_PROPAGATORS": "tracecontext,b3"}, "OTEL_PROPAGATORS"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			setenv(t, tt.env)
			tel, err := otelenv.New(t.Context(), otelenv.Options{})
			if err == nil {
				_ = tel.Shutdown(context.Background())
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %s", err, tt.want)
			}
		})
	}
}

// The propagators: W3C trace context and baggage by default; X-Ray's
// header too with "xray" or Options.XRay, and then X-Ray's trace ID
// format, whose first 8 hex digits are the epoch second.
func TestPropagators(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		xray       bool
		wantFields []string
	}{
		{"default", nil, false, []string{"baggage", "traceparent", "tracestate"}},
		{"xray from env", map[string]string{"OTEL_PROPAGATORS": "tracecontext,xray"}, true, []string{"X-Amzn-Trace-Id", "traceparent", "tracestate"}},
		{"xray by option", map[string]string{"OTEL_PROPAGATORS": "tracecontext"}, true, []string{"X-Amzn-Trace-Id", "traceparent", "tracestate"}},
		{"none", map[string]string{"OTEL_PROPAGATORS": "none"}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"OTEL_TRACES_EXPORTER": "console"}
			for k, v := range tt.env {
				env[k] = v
			}
			opts := otelenv.Options{Stdout: &bytes.Buffer{}, XRay: tt.name == "xray by option"}
			tel := newTelemetry(t, env, opts)
			fields := tel.Propagator.Fields()
			if len(fields) == 0 {
				fields = nil
			}
			slices.Sort(fields)
			if diff := cmp.Diff(tt.wantFields, fields); diff != "" {
				t.Errorf("propagator fields (-want +got):\n%s", diff)
			}
			ctx, span := tel.TracerProvider.Tracer("test").Start(t.Context(), "op")
			defer span.End()
			carrier := propagation.MapCarrier{}
			tel.Propagator.Inject(ctx, carrier)
			id := span.SpanContext().TraceID()
			if tt.xray {
				epoch, err := hex.DecodeString(id.String()[:8])
				if err != nil {
					t.Fatal(err)
				}
				sec := int64(epoch[0])<<24 | int64(epoch[1])<<16 | int64(epoch[2])<<8 | int64(epoch[3])
				if d := time.Since(time.Unix(sec, 0)); d < -time.Minute || d > time.Hour {
					t.Errorf("trace ID %s is not in X-Ray's format (its time is %v ago)", id, d)
				}
				if h := carrier.Get("X-Amzn-Trace-Id"); !strings.Contains(h, "Root=1-"+id.String()[:8]+"-"+id.String()[8:]) {
					t.Errorf("X-Amzn-Trace-Id %q for trace %s", h, id)
				}
			}
		})
	}
}
