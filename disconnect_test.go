package zocket_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

// Server code can disconnect a client by id: the connection is closed
// with 1008 and the reason, onDisconnect runs, and later frames from it
// are ignored.
func TestDisconnect_ClosesTheConnectionWithReason(t *testing.T) {
	left := make(chan string, 1)
	app := zocket.NewApp().Register("log", zocket.NewActor[logState]().Methods(tick, get).
		OnDisconnect(func(l *zocket.Lifecycle[logState]) error { left <- l.ClientID; return nil }))
	t.Cleanup(func() { app.Close(ctxT(t)) })
	h := zocket.NewHandler(app)
	c := zocket.NewLocalConn("c", zocket.Identity{})
	h.OnConnection(c)
	next(t, c) // welcome
	h.OnMessage(c, []byte(`{"type":"rpc","id":1,"actor":"log","actorId":"x","method":"tick"}`))
	next(t, c) // result

	require.True(t, h.Disconnect("c", "token revoked"))
	code, reason := c.CloseReason()
	assert.Equal(t, zocket.ClosePolicyViolation, code)
	assert.Equal(t, "token revoked", reason)
	assert.Equal(t, "c", <-left)

	h.OnMessage(c, []byte(`{"type":"rpc","id":2,"actor":"log","actorId":"x","method":"tick"}`))
	assert.Equal(t, 1, logOf(t, app, "x").N, "the frame after Disconnect was ignored")
	assert.False(t, h.Disconnect("c", "again"), "no longer open")
}
