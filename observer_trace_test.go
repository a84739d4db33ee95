package zocket_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

func TestObserver_CallFromAConnectionCarriesTheFramesTraceContext(t *testing.T) {
	rec := &recorder{}
	app := observedApp(rec)
	h := zocket.NewHandler(app)
	c := zocket.NewLocalConn("c1", zocket.Identity{})
	h.OnConnection(c)
	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	h.OnMessage(c, []byte(`{"type":"rpc","id":1,"actor":"obs","actorId":"a","method":"add","input":1,`+
		`"traceparent":"`+parent+`","tracestate":"vendor=1"}`))
	h.OnMessage(c, []byte(`{"type":"rpc","id":2,"actor":"obs","actorId":"a","method":"add","input":1}`))
	for range 3 { // welcome and both answers
		_, err := c.Next(context.Background())
		require.NoError(t, err)
	}
	// The answers are out before CallEnd: wait for it through a later call.
	_, err := app.Invoke(context.Background(), "obs", "a", "add", json.RawMessage("1"))
	require.NoError(t, err)

	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.Len(t, rec.calls, 3)
	assert.Equal(t, parent, rec.calls[0].TraceParent)
	assert.Equal(t, "vendor=1", rec.calls[0].TraceState)
	assert.Empty(t, rec.calls[1].TraceParent, "a frame without trace context")
	assert.Empty(t, rec.calls[2].TraceParent, "App.Invoke")
}
