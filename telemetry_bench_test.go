package babysitter_test

import (
	"context"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/babysitter-go/babysitter"
)

// BenchmarkServiceTelemetry is BenchmarkService with telemetry off (the
// default Options: no providers) and on (the SDK's TracerProvider,
// sampling every span and exporting it synchronously to an exporter that
// drops it, and the SDK's MeterProvider with a reader), side by side in
// one run. BenchmarkService at the commit before the instrumentation is
// the "no instrumentation" column:
//
//	go test -run '^$' -bench 'Service' -benchmem -count 10 . | benchstat -col /telemetry -
func BenchmarkServiceTelemetry(b *testing.B) {
	b.Run("telemetry=off", func(b *testing.B) {
		benchServiceOps(b, babysitter.Options{})
	})
	b.Run("telemetry=on", func(b *testing.B) {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(tracetest.NewNoopExporter()))
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		b.Cleanup(func() {
			_ = tp.Shutdown(context.Background())
			_ = mp.Shutdown(context.Background())
		})
		benchServiceOps(b, babysitter.Options{TracerProvider: tp, MeterProvider: mp})
	})
}
