package otelzocket_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/otelzocket"
)

// holdStarted hears each hold call start; it then waits for holdRelease.
var holdStarted, holdRelease chan struct{}

var hold = zocket.MethodNoInput("hold", func(*zocket.Context[counter, zocket.NoData]) (int, error) {
	holdStarted <- struct{}{}
	<-holdRelease
	return 0, nil
})

// gaugeOf returns the value of an int64 gauge's point for actor, and
// whether there is one.
func gaugeOf(t *testing.T, reader *sdkmetric.ManualReader, name, actor string) (int64, bool) {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	m, ok := metricsByName(rm)[name]
	if !ok {
		return 0, false
	}
	g, ok := m.Data.(metricdata.Gauge[int64])
	require.True(t, ok, "%s is not an int64 gauge", name)
	for _, p := range g.DataPoints {
		if hasAll(p.Attributes, []attribute.KeyValue{otelzocket.KeyActor.String(actor)}) {
			return p.Value, true
		}
	}
	return 0, false
}

func TestMailboxGauges_ReportQueuedCallsSummedAndTheDeepestByActorType(t *testing.T) {
	holdStarted, holdRelease = make(chan struct{}), make(chan struct{})
	reader := sdkmetric.NewManualReader()
	obs, err := otelzocket.New(otelzocket.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	require.NoError(t, err)
	app := zocket.NewApp(zocket.WithObserver(obs)).
		Register("counter", zocket.NewActor[counter]().Methods(add, hold)).
		Register("relay", zocket.NewActor[counter]().Methods(relay))
	t.Cleanup(func() { _ = app.Close(context.Background()) })
	stop := obs.WatchMailboxes(app)
	gauge := func(name, actor string) int64 {
		t.Helper()
		v, ok := gaugeOf(t, reader, name, actor)
		require.True(t, ok, "%s reports %s", name, actor)
		return v
	}

	// a and b each run a hold call; behind them wait two calls on a, one on b.
	var holds sync.WaitGroup
	for _, id := range []string{"a", "b"} {
		holds.Go(func() { _, _ = hold.Invoke(context.Background(), app, "counter", id, zocket.None{}) })
		<-holdStarted
	}
	h := zocket.NewHandler(app)
	c := zocket.NewLocalConn("c1", zocket.Identity{})
	h.OnConnection(c)
	for _, id := range []string{"a", "a", "b"} {
		h.OnMessage(c, []byte(`{"type":"rpc","id":1,"actor":"counter","actorId":"`+id+`","method":"add","input":1}`))
	}
	assert.EqualValues(t, 3, gauge("zocket.mailbox.depth", "counter"))
	assert.EqualValues(t, 2, gauge("zocket.mailbox.depth.max", "counter"))
	assert.EqualValues(t, 0, gauge("zocket.mailbox.depth", "relay"), "a type without instances reports 0")

	close(holdRelease)
	holds.Wait()
	for range 4 { // welcome and the three answers
		_, err := c.Next(context.Background())
		require.NoError(t, err)
	}
	assert.EqualValues(t, 0, gauge("zocket.mailbox.depth", "counter"))
	assert.EqualValues(t, 0, gauge("zocket.mailbox.depth.max", "counter"))

	stop()
	_, ok := gaugeOf(t, reader, "zocket.mailbox.depth", "counter")
	assert.False(t, ok, "an App no longer watched is not reported")
}
