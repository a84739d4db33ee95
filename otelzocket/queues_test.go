package otelzocket_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/zocket-go/zocket/otelzocket"
	"github.com/zocket-go/zocket/transport/wscore"
)

// queuePoints returns the points of the int64 gauge name by the value of
// the attribute "transport".
func queuePoints(t *testing.T, reader *sdkmetric.ManualReader, name string) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	out := map[string]int64{}
	m, ok := metricsByName(rm)[name]
	if !ok {
		return out
	}
	g, ok := m.Data.(metricdata.Gauge[int64])
	require.True(t, ok, "%s is not an int64 gauge", name)
	for _, p := range g.DataPoints {
		v, _ := p.Attributes.Value("transport")
		out[v.AsString()] = p.Value
	}
	return out
}

func TestQueueGauges_ReportWatchedQueuesSummedByAttributesWithTheLargestQueue(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	obs, err := otelzocket.New(otelzocket.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	require.NoError(t, err)
	fixed := func(q wscore.QueueStats) func() wscore.QueueStats { return func() wscore.QueueStats { return q } }
	ws := attribute.String("transport", "ws")

	stopA := obs.WatchQueues(fixed(wscore.QueueStats{Conns: 3, Frames: 5, Bytes: 500, MaxFrames: 4, MaxBytes: 100}), ws)
	stopB := obs.WatchQueues(fixed(wscore.QueueStats{Conns: 1, Frames: 1, Bytes: 300, MaxFrames: 1, MaxBytes: 300}), ws)
	stopC := obs.WatchQueues(fixed(wscore.QueueStats{Conns: 2, Frames: 7, Bytes: 70, MaxFrames: 7, MaxBytes: 70}),
		attribute.String("transport", "gateway"))

	for name, want := range map[string]map[string]int64{
		"zocket.connections":               {"ws": 4, "gateway": 2},
		"zocket.outbound.queue.frames":     {"ws": 6, "gateway": 7},
		"zocket.outbound.queue.bytes":      {"ws": 800, "gateway": 70},
		"zocket.outbound.queue.max_frames": {"ws": 4, "gateway": 7},
		"zocket.outbound.queue.max_bytes":  {"ws": 300, "gateway": 70},
	} {
		assert.Equal(t, want, queuePoints(t, reader, name), name)
	}

	stopB()
	assert.Equal(t, map[string]int64{"ws": 3, "gateway": 2}, queuePoints(t, reader, "zocket.connections"),
		"a source no longer watched no longer counts")
	stopA()
	stopC()
	assert.Empty(t, queuePoints(t, reader, "zocket.outbound.queue.frames"), "nothing watched, nothing reported")
}
