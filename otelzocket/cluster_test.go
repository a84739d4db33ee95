package otelzocket_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/natsserver"
	"github.com/zocket-go/zocket/internal/testsupport/wstest"
	"github.com/zocket-go/zocket/otelzocket"
	"github.com/zocket-go/zocket/transport/natscluster"
)

// heard is the otelzocket Observer for the cluster's gateway and runtime,
// which also tells the test of each acknowledged publish and forward.
type heard struct {
	*otelzocket.Observer
	published chan natscluster.Role
	forwarded chan struct{}
}

func (h heard) PublishDone(p natscluster.Publish) {
	h.Observer.PublishDone(p)
	h.published <- p.Role
}

func (h heard) ForwardEnd(ctx context.Context, rpc natscluster.RPC, p natscluster.Publish) {
	h.Observer.ForwardEnd(ctx, rpc, p)
	h.forwarded <- struct{}{}
}

// startCluster runs NATS, a runtime hosting the counter actor and a
// gateway, all observed by obs, and returns the gateway's WebSocket URL.
func startCluster(t *testing.T, obs *otelzocket.Observer) (url string, h heard) {
	t.Helper()
	srv, err := natsserver.Start(natsserver.Options{StoreDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	conn := func() *nats.Conn {
		nc, err := nats.Connect(srv.ClientURL())
		require.NoError(t, err)
		t.Cleanup(nc.Close)
		return nc
	}
	h = heard{Observer: obs, published: make(chan natscluster.Role, 100), forwarded: make(chan struct{}, 100)}
	scope := natscluster.Namespace{WorkspaceID: "ws", ProjectID: "prj"}

	app := zocket.NewApp(zocket.WithObserver(obs)).Register("counter", zocket.NewActor[counter]().Methods(add))
	rt, err := natscluster.NewRuntime(conn(), app, natscluster.RuntimeOptions{Namespace: scope, Observer: h})
	require.NoError(t, err)
	require.NoError(t, rt.Start(t.Context()))
	gw, err := natscluster.NewGateway(t.Context(), conn(),
		natscluster.GatewayOptions{Authorizer: natscluster.StaticAuthorizer{Namespace: scope}, Observer: h})
	require.NoError(t, err)
	web := httptest.NewServer(gw)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		gw.Shutdown(ctx)
		web.Close()
		rt.Stop(ctx)
		app.Close(ctx)
	})
	return "ws" + strings.TrimPrefix(web.URL, "http"), h
}

func TestClusterTrace_RuntimeCallSpanIsAChildOfTheGatewaySpanOfTheClientsTrace(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	obs, err := otelzocket.New(otelzocket.WithTracerProvider(tp))
	require.NoError(t, err)
	url, h := startCluster(t, obs)

	_, client := tp.Tracer("client").Start(context.Background(), "click")
	client.End()
	sc := client.SpanContext()
	w := wstest.DialWelcome(t, url)
	w.SendRaw(`{"type":"rpc","id":"r1","actor":"counter","actorId":"c1","method":"add","input":2,` +
		`"traceparent":"00-` + sc.TraceID().String() + `-` + sc.SpanID().String() + `-01"}`)
	assert.NotContains(t, w.Result("r1"), "error")
	<-h.forwarded // the gateway span has ended (the call span ended before the answer)

	spans := map[string]sdktrace.ReadOnlySpan{}
	for _, s := range rec.Ended() {
		spans[s.Name()] = s
	}
	require.Contains(t, spans, "gateway counter.add")
	require.Contains(t, spans, "counter.add")
	gateway, call := spans["gateway counter.add"], spans["counter.add"]
	assert.Equal(t, sc.SpanID(), gateway.Parent().SpanID(), "the gateway span continues the client's")
	assert.Equal(t, trace.SpanKindProducer, gateway.SpanKind())
	assert.Equal(t, gateway.SpanContext().SpanID(), call.Parent().SpanID(), "the call span continues the gateway's, across NATS")
	assert.True(t, call.Parent().IsRemote())
	assert.Equal(t, sc.TraceID(), call.SpanContext().TraceID())
	assert.Equal(t, trace.SpanKindServer, call.SpanKind())
}

func TestClusterMetrics_RecordPublishAckLatencyOfGatewayAndRuntime(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	obs, err := otelzocket.New(otelzocket.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	require.NoError(t, err)
	url, h := startCluster(t, obs)

	w := wstest.DialWelcome(t, url)
	assert.NotContains(t, w.Call("counter", "c1", "add", 1), "error")
	roles := map[natscluster.Role]int{}
	for roles[natscluster.RoleGateway] < 1 || roles[natscluster.RoleRuntime] < 2 { // the rpc; welcome and the answer
		roles[<-h.published]++
	}

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	m := metricsByName(rm)["zocket.nats.publish.duration"]
	assert.EqualValues(t, 1, countOf(t, m, otelzocket.KeyRole.String("gateway"), otelzocket.KeyOutcome.String("ok")))
	assert.EqualValues(t, 2, countOf(t, m, otelzocket.KeyRole.String("runtime"), otelzocket.KeyOutcome.String("ok")))
}
