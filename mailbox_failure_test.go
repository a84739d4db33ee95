package zocket_test

import (
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

// fragile is a state value whose encoder panics on "boom": committing it
// to a subscriber fails inside the mailbox, after the handler returned,
// where no handler panic guard runs.
type fragile string

func (f fragile) MarshalJSON() ([]byte, error) {
	if f == "boom" {
		panic("encoder bug")
	}
	return json.Marshal(string(f))
}

type fragileState struct {
	V fragile `json:"v"`
}

var breakEncoding = zocket.MethodNoIO("break", func(c *zocket.Context[fragileState, zocket.NoCtx]) error {
	c.State.V = "boom"
	return nil
})

func fragileApp(t *testing.T, logs *syncBuffer) (*zocket.App, *zocket.Handler, *zocket.LocalConn) {
	app := zocket.NewApp(zocket.WithLogger(slog.New(slog.NewTextHandler(logs, nil)))).
		Register("f", zocket.NewActor[fragileState]().Methods(breakEncoding))
	t.Cleanup(func() { app.Close(ctxT(t)) })
	h := zocket.NewHandler(app)
	sub := zocket.NewLocalConn("sub", zocket.Identity{})
	h.OnConnection(sub)
	next(t, sub) // welcome
	h.OnMessage(sub, []byte(`{"type":"state:sub","actor":"f","actorId":"x"}`))
	next(t, sub) // snapshot
	return app, h, sub
}

// A call that fails inside the mailbox (here: the patch for a subscriber
// cannot be encoded) still gets its one answer: Invoke returns an
// "Internal error" CallError, and the instance keeps working.
func TestMailboxFailure_InvokeStillGetsAnError(t *testing.T) {
	var logs syncBuffer
	app, _, _ := fragileApp(t, &logs)

	_, err := app.Invoke(ctxT(t), "f", "x", "break", nil)
	require.ErrorIs(t, err, zocket.ErrInternal)
	assert.EqualError(t, err, "Internal error")
	assert.Contains(t, logs.String(), "encoder bug", "the cause is logged")

	_, err = app.Invoke(ctxT(t), "f", "x", "nope", nil)
	assert.ErrorIs(t, err, zocket.ErrUnknownMethod, "the mailbox goes on")
}

// Over a connection, the caller receives an rpc:result with the error
// "Internal error".
func TestMailboxFailure_RPCStillGetsAnErrorResult(t *testing.T) {
	var logs syncBuffer
	_, h, sub := fragileApp(t, &logs)

	h.OnMessage(sub, []byte(`{"type":"rpc","id":"1","actor":"f","actorId":"x","method":"break"}`))
	assert.Equal(t, map[string]any{"type": "rpc:result", "id": "1", "error": "Internal error"}, next(t, sub))
}
