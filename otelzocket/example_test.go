package otelzocket_test

import (
	"context"
	"fmt"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/otelzocket"
	"github.com/zocket-go/zocket/transport/wshttp"
)

// An App traced and measured: every call is a span, and the meter counts
// calls by actor, method and outcome. In production, give New the
// providers your exporters are set up with (or set the global ones).
func Example() {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))

	obs, err := otelzocket.New(otelzocket.WithTracerProvider(tp), otelzocket.WithMeterProvider(mp))
	if err != nil {
		panic(err)
	}
	app := zocket.NewApp(zocket.WithObserver(obs)).
		Register("counter", zocket.NewActor[counter]().Methods(add))
	defer app.Close(context.Background())

	ctx, request := tp.Tracer("example").Start(context.Background(), "POST /increment")
	if _, err := add.Invoke(ctx, app, "counter", "c1", 5); err != nil {
		panic(err)
	}
	request.End()

	for _, s := range spans.GetSpans() {
		fmt.Printf("span %s (parent %v)\n", s.Name, s.Parent.IsValid())
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		panic(err)
	}
	calls := metricsByName(rm)["zocket.calls"].Data.(metricdata.Sum[int64])
	fmt.Println("calls:", calls.DataPoints[0].Value)
	// Output:
	// span counter.add (parent true)
	// span POST /increment (parent false)
	// calls: 1
}

// A transport's outbound queues measured: WatchQueues reads the server's
// Queues at each collection, one series per transport rather than per
// connection.
func ExampleObserver_WatchQueues() {
	reader := sdkmetric.NewManualReader()
	obs, err := otelzocket.New(otelzocket.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	if err != nil {
		panic(err)
	}
	app := zocket.NewApp(zocket.WithObserver(obs))
	defer app.Close(context.Background())
	srv, err := wshttp.New(zocket.NewHandler(app), wshttp.Options{})
	if err != nil {
		panic(err)
	}
	stop := obs.WatchQueues(srv.Queues, otelzocket.KeyTransport.String("wshttp"))
	defer stop()
	// ... serve srv ...

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		panic(err)
	}
	conns := metricsByName(rm)["zocket.connections"].Data.(metricdata.Gauge[int64])
	fmt.Println("connections:", conns.DataPoints[0].Value)
	// Output:
	// connections: 0
}
