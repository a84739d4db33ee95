package otelzocket_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/otelzocket"
)

type counter struct{ N int }

var (
	add = zocket.MethodNoResult("add", func(c *zocket.Context[counter, zocket.NoData], n int) error {
		c.State.N += n
		return nil
	})
	fail = zocket.MethodNoInput("fail", func(*zocket.Context[counter, zocket.NoData]) (int, error) {
		return 0, errors.New("refused")
	})
	crash = zocket.MethodNoInput("crash", func(*zocket.Context[counter, zocket.NoData]) (int, error) {
		panic("boom")
	})
	// relay adds to the counter "tools"/"t1" through an actor-to-actor call.
	relay = zocket.MethodNoResult("relay", func(c *zocket.Context[counter, zocket.NoData], n int) error {
		_, err := add.Invoke(c.Context(), c.App(), "counter", "t1", n)
		return err
	})
)

func newApp(t *testing.T, opts ...otelzocket.Option) *zocket.App {
	t.Helper()
	obs, err := otelzocket.New(opts...)
	require.NoError(t, err)
	app := zocket.NewApp(zocket.WithObserver(obs)).
		Register("counter", zocket.NewActor[counter]().Methods(add, fail, crash)).
		Register("relay", zocket.NewActor[counter]().Methods(relay))
	t.Cleanup(func() { _ = app.Close(context.Background()) })
	return app
}

func TestCallSpans_AreChildrenOfTheCallersSpanAcrossActors(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	app := newApp(t, otelzocket.WithTracerProvider(tp))

	ctx, root := tp.Tracer("test").Start(context.Background(), "request")
	_, err := app.Invoke(ctx, "relay", "r1", "relay", json.RawMessage("2"))
	require.NoError(t, err)
	root.End()

	spans := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		spans[s.Name()] = s
	}
	require.Contains(t, spans, "relay.relay")
	require.Contains(t, spans, "counter.add")
	outer, inner := spans["relay.relay"], spans["counter.add"]
	assert.Equal(t, root.SpanContext().SpanID(), outer.Parent().SpanID(), "Invoke's call is a child of the caller's span")
	assert.Equal(t, outer.SpanContext().SpanID(), inner.Parent().SpanID(), "the actor-to-actor call is a child of the calling method's span")
	assert.Equal(t, root.SpanContext().TraceID(), inner.SpanContext().TraceID())
	assert.Equal(t, trace.SpanKindInternal, inner.SpanKind())
	assert.Contains(t, inner.Attributes(), otelzocket.KeyActorID.String("t1"))
	assert.Contains(t, inner.Attributes(), otelzocket.KeyOutcome.String("ok"))
}

func TestCallSpans_FromAConnectionAreServerRootsAndFailuresSetErrorStatus(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	app := newApp(t, otelzocket.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))))
	h := zocket.NewHandler(app)
	c := zocket.NewLocalConn("c1", zocket.Identity{})
	h.OnConnection(c)
	h.OnMessage(c, []byte(`{"type":"rpc","id":1,"actor":"counter","actorId":"a","method":"fail"}`))
	for range 2 { // welcome, then the answer: CallEnd ran before it was sent
		_, err := c.Next(context.Background())
		require.NoError(t, err)
	}

	spans := rec.Ended()
	require.Len(t, spans, 1)
	s := spans[0]
	assert.Equal(t, "counter.fail", s.Name())
	assert.False(t, s.Parent().IsValid(), "a call from a connection starts a trace")
	assert.Equal(t, trace.SpanKindServer, s.SpanKind())
	assert.Equal(t, codes.Error, s.Status().Code)
	assert.Equal(t, "refused", s.Status().Description)
	assert.Contains(t, s.Attributes(), otelzocket.KeyClientID.String("c1"))
}

func TestMetrics_CountCallsInstancesSubscriptionsAndPublishedBytes(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	obs, err := otelzocket.New(otelzocket.WithMeterProvider(mp))
	require.NoError(t, err)
	app := zocket.NewApp(zocket.WithObserver(obs)).
		Register("counter", zocket.NewActor[counter]().Methods(add, fail, crash))
	ctx := context.Background()
	h := zocket.NewHandler(app)

	_, err = add.Invoke(ctx, app, "counter", "a", 1) // activates a
	require.NoError(t, err)
	sub := zocket.NewLocalConn("sub", zocket.Identity{})
	h.OnConnection(sub)
	h.OnMessage(sub, []byte(`{"type":"state:sub","actor":"counter","actorId":"a"}`))
	h.OnMessage(sub, []byte(`{"type":"event:sub","actor":"counter","actorId":"a"}`))
	_, err = add.Invoke(ctx, app, "counter", "a", 1) // one patch to one subscriber
	require.NoError(t, err)
	_, err = fail.Invoke(ctx, app, "counter", "a", zocket.None{})
	require.Error(t, err)
	_, err = crash.Invoke(ctx, app, "counter", "b", zocket.None{}) // activates b
	require.ErrorIs(t, err, zocket.ErrPanic)
	h.OnMessage(sub, []byte(`{"type":"event:unsub","actor":"counter","actorId":"a"}`))
	require.NoError(t, app.Destroy(ctx, "counter", "b"))
	obs.SlowConsumerClosed("c9")

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(ctx, &rm))
	m := metricsByName(rm)

	calls := func(method, outcome string) int64 {
		return sumOf(t, m["zocket.calls"], otelzocket.KeyActor.String("counter"),
			otelzocket.KeyMethod.String(method), otelzocket.KeyOutcome.String(outcome))
	}
	assert.EqualValues(t, 2, calls("add", "ok"))
	assert.EqualValues(t, 1, calls("fail", "error"))
	assert.EqualValues(t, 1, calls("crash", "panic"))
	assert.EqualValues(t, 2, countOf(t, m["zocket.call.duration"], otelzocket.KeyMethod.String("add")))
	assert.EqualValues(t, 4, countOf(t, m["zocket.call.queue.duration"]))
	assert.EqualValues(t, 1, sumOf(t, m["zocket.instances"], otelzocket.KeyActor.String("counter")), "a is live, b destroyed")
	assert.EqualValues(t, 1, sumOf(t, m["zocket.subscriptions"], otelzocket.KeyKind.String("state")))
	assert.EqualValues(t, 0, sumOf(t, m["zocket.subscriptions"], otelzocket.KeyKind.String("events")))
	assert.EqualValues(t, 1, sumOf(t, m["zocket.publish.frames"]))
	patch := sub.Frames()[len(sub.Frames())-1]
	assert.Contains(t, string(patch), `"state:patch"`)
	assert.EqualValues(t, len(patch), sumOf(t, m["zocket.publish.size"]))
	assert.EqualValues(t, 1, sumOf(t, m["zocket.slow_consumer.closes"]))
	require.NoError(t, app.Close(ctx))
}

func metricsByName(rm metricdata.ResourceMetrics) map[string]metricdata.Metrics {
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// sumOf adds up the points of a counter or up/down counter whose
// attributes include all of want.
func sumOf(t *testing.T, m metricdata.Metrics, want ...attribute.KeyValue) int64 {
	t.Helper()
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%s is not an int64 sum", m.Name)
	var total int64
	for _, p := range sum.DataPoints {
		if hasAll(p.Attributes, want) {
			total += p.Value
		}
	}
	return total
}

// countOf adds up the counts of a histogram's points whose attributes
// include all of want.
func countOf(t *testing.T, m metricdata.Metrics, want ...attribute.KeyValue) uint64 {
	t.Helper()
	h, ok := m.Data.(metricdata.Histogram[float64])
	require.True(t, ok, "%s is not a float64 histogram", m.Name)
	var total uint64
	for _, p := range h.DataPoints {
		if hasAll(p.Attributes, want) {
			total += p.Count
		}
	}
	return total
}

func hasAll(set attribute.Set, want []attribute.KeyValue) bool {
	for _, kv := range want {
		if v, ok := set.Value(kv.Key); !ok || v != kv.Value {
			return false
		}
	}
	return true
}
