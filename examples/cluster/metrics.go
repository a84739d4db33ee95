package main

import (
	"context"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/zocket-go/zocket/otelzocket"
)

// metrics is the process's OpenTelemetry metrics, exported for Prometheus.
type metrics struct {
	obs     *otelzocket.Observer // for the App, the gateway and the runtime
	handler http.Handler         // serves /metrics in Prometheus's text format
	mp      *sdkmetric.MeterProvider
}

// newMetrics returns an otelzocket Observer whose metrics a Prometheus
// registry of its own serves (no process-wide default registry).
func newMetrics() (*metrics, error) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, fmt.Errorf("prometheus exporter: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	obs, err := otelzocket.New(otelzocket.WithMeterProvider(mp))
	if err != nil {
		return nil, err
	}
	return &metrics{obs: obs, handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), mp: mp}, nil
}

// Close stops the meter provider.
func (m *metrics) Close(ctx context.Context) error { return m.mp.Shutdown(ctx) }
