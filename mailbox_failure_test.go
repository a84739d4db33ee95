package zocket_test

import (
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

// brokenConn is a subscriber whose transport panics on the first frame
// after the snapshot: a fault inside the mailbox, after the handler
// returned and its changes committed, where no handler panic guard runs.
type brokenConn struct {
	*zocket.LocalConn
	armed atomic.Bool
}

func (c *brokenConn) Send(frame []byte) error {
	if c.armed.Load() {
		panic("transport bug")
	}
	return c.LocalConn.Send(frame)
}

type tallyState struct {
	N int `json:"n"`
}

var bumpCounter = zocket.MethodNoIO("bump", func(c *zocket.Context[tallyState, zocket.NoData]) error {
	c.State.N++
	return nil
})

func fragileApp(t *testing.T, logs *syncBuffer) (*zocket.App, *zocket.Handler, *brokenConn) {
	app := zocket.NewApp(zocket.WithLogger(slog.New(slog.NewTextHandler(logs, nil)))).
		Register("f", zocket.NewActor[tallyState]().Methods(bumpCounter))
	t.Cleanup(func() { app.Close(ctxT(t)) })
	h := zocket.NewHandler(app)
	sub := &brokenConn{LocalConn: zocket.NewLocalConn("sub", zocket.Identity{})}
	h.OnConnection(sub)
	next(t, sub.LocalConn) // welcome
	h.OnMessage(sub, []byte(`{"type":"state:sub","actor":"f","actorId":"x"}`))
	next(t, sub.LocalConn) // snapshot
	sub.armed.Store(true)
	return app, h, sub
}

// A call that fails after its handler returned (here: the transport of a
// subscriber panics while the patch is delivered) still gets its one
// answer: Invoke returns the ErrPanic CallError "Unknown error", the cause
// is logged, and the instance keeps working.
func TestMailboxFailure_InvokeStillGetsAnError(t *testing.T) {
	var logs syncBuffer
	app, _, _ := fragileApp(t, &logs)

	_, err := app.Invoke(ctxT(t), "f", "x", "bump", nil)
	require.ErrorIs(t, err, zocket.ErrPanic)
	assert.EqualError(t, err, "Unknown error")
	assert.Contains(t, logs.String(), "transport bug", "the cause is logged")

	_, err = app.Invoke(ctxT(t), "f", "x", "nope", nil)
	assert.ErrorIs(t, err, zocket.ErrUnknownMethod, "the mailbox goes on")
}

// Over a connection, the caller receives an rpc:result with the error
// "Unknown error", as for any panic.
func TestMailboxFailure_RPCStillGetsAnErrorResult(t *testing.T) {
	var logs syncBuffer
	_, h, _ := fragileApp(t, &logs)
	caller := zocket.NewLocalConn("caller", zocket.Identity{})
	h.OnConnection(caller)
	next(t, caller) // welcome

	h.OnMessage(caller, []byte(`{"type":"rpc","id":"1","actor":"f","actorId":"x","method":"bump"}`))
	assert.Equal(t, map[string]any{"type": "rpc:result", "id": "1", "error": "Unknown error"}, next(t, caller))
}
