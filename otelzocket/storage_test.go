package otelzocket_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/otelzocket"
	"github.com/zocket-go/zocket/storage/memstore"
)

func TestStorageMetrics_CountWritesBytesAndLatency(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	obs, err := otelzocket.New(otelzocket.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	require.NoError(t, err)
	store := memstore.New()
	// Through zocket.Observers too: the fan-out passes storage writes on.
	app := zocket.NewApp(zocket.WithStorage(store), zocket.WithObserver(zocket.Observers(obs, zocket.NopObserver{}))).
		Register("counter", zocket.NewActor[counter]().Methods(add))
	for range 3 {
		_, err := add.Invoke(context.Background(), app, "counter", "c", 1)
		require.NoError(t, err)
	}
	require.NoError(t, app.Close(context.Background()))
	_, stored := store.Stats()

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	m := metricsByName(rm)
	require.EqualValues(t, 3, sumOf(t, m["zocket.storage.writes"], otelzocket.KeyOutcome.String("ok")))
	require.EqualValues(t, stored, sumOf(t, m["zocket.storage.write.size"]))
	require.EqualValues(t, 3, countOf(t, m["zocket.storage.write.duration"]))
}
