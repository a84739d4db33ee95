package zocket_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/protocol"
)

// A transport that already parsed a frame hands the Handler the message:
// it is answered as the frame would be.
func TestHandler_OnParsedAnswersLikeOnMessage(t *testing.T) {
	type st struct{ N int }
	inc := zocket.MethodNoInput("inc", func(c *zocket.Context[st, zocket.NoData]) (int, error) {
		c.State.N++
		return c.State.N, nil
	})
	app := zocket.NewApp().Register("n", zocket.NewActor[st]().Methods(inc))
	t.Cleanup(func() { app.Close(ctxT(t)) })
	h := zocket.NewHandler(app)
	c := zocket.NewLocalConn("c", zocket.Identity{})
	h.OnConnection(c)
	next(t, c) // welcome

	m, err := protocol.Parse([]byte(`{"type":"rpc","id":7,"actor":"n","actorId":"a","method":"inc"}`))
	require.NoError(t, err)
	h.OnParsed(c, m)
	assert.Equal(t, map[string]any{"type": "rpc:result", "id": float64(7), "result": float64(1)}, next(t, c))

	h.OnClose(c)
	h.OnParsed(c, m) // a closed connection's message is ignored
	n, err := app.Invoke(ctxT(t), "n", "a", "inc", nil)
	require.NoError(t, err)
	assert.JSONEq(t, "2", string(n), "the closed connection's call did not run")
}
