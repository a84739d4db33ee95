package otelzocket_test

import (
	"context"
	"encoding/json"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/otelzocket"
)

// BenchmarkInvoke measures a call through App.Invoke without an observer
// and with OpenTelemetry on (SDK tracer sampling every span into a batch
// processor without exporter, SDK meter with a manual reader): the cost
// the observer adds per call.
func BenchmarkInvoke(b *testing.B) {
	run := func(b *testing.B, opts ...zocket.Option) {
		app := zocket.NewApp(opts...).Register("counter", zocket.NewActor[counter]().Methods(add))
		b.Cleanup(func() { _ = app.Close(context.Background()) })
		ctx, in := context.Background(), json.RawMessage("1")
		b.ReportAllocs()
		for b.Loop() {
			if _, err := app.Invoke(ctx, "counter", "c", "add", in); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("NoObserver", func(b *testing.B) { run(b) })
	b.Run("OpenTelemetry", func(b *testing.B) {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sdktrace.NewBatchSpanProcessor(nopExporter{})))
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		b.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })
		obs, err := otelzocket.New(otelzocket.WithTracerProvider(tp), otelzocket.WithMeterProvider(mp))
		if err != nil {
			b.Fatal(err)
		}
		run(b, zocket.WithObserver(obs))
	})
}

// nopExporter drops spans: the benchmark measures recording, not export.
type nopExporter struct{}

func (nopExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (nopExporter) Shutdown(context.Context) error                             { return nil }
