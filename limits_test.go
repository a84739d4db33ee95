package zocket_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

// An rpc beyond the connection's in-flight limit is answered at once with
// an error and never runs; answered calls free their places.
func TestLimits_InFlightRPCsBeyondTheLimitAreRefused(t *testing.T) {
	release := make(chan struct{})
	hold := zocket.MethodNoIO("hold", func(c *lc) error { <-release; return nil })
	app := zocket.NewApp(zocket.WithMaxInFlight(2)).
		Register("log", zocket.NewActor[logState]().Methods(hold, tick, get))
	t.Cleanup(func() { app.Close(ctxT(t)) })
	h := zocket.NewHandler(app)
	c := zocket.NewLocalConn("c", zocket.Identity{})
	h.OnConnection(c)
	next(t, c) // welcome

	rpc := func(id int, method string) {
		h.OnMessage(c, fmt.Appendf(nil, `{"type":"rpc","id":%d,"actor":"log","actorId":"x","method":%q}`, id, method))
	}
	rpc(1, "hold")
	rpc(2, "tick") // queued behind hold: two in flight
	rpc(3, "tick")
	assert.Equal(t, map[string]any{"type": "rpc:result", "id": 3.0,
		"error": "Too many calls in flight (limit 2)"}, next(t, c))

	close(release)
	assert.Equal(t, map[string]any{"type": "rpc:result", "id": 1.0}, next(t, c))
	assert.Equal(t, map[string]any{"type": "rpc:result", "id": 2.0}, next(t, c))
	rpc(4, "tick")
	assert.Equal(t, map[string]any{"type": "rpc:result", "id": 4.0}, next(t, c))
	assert.Equal(t, 2, logOf(t, app, "x").N, "the refused call never ran")
}

// A subscription beyond the connection's limit is ignored; unsubscribing
// frees a place.
func TestLimits_SubscriptionsBeyondTheLimitAreIgnored(t *testing.T) {
	app := zocket.NewApp(zocket.WithMaxSubscriptions(2)).
		Register("log", zocket.NewActor[logState]().Methods(tick, get))
	t.Cleanup(func() { app.Close(ctxT(t)) })
	h := zocket.NewHandler(app)
	c := zocket.NewLocalConn("c", zocket.Identity{})
	h.OnConnection(c)
	next(t, c) // welcome

	for _, id := range []string{"a", "b", "c"} {
		h.OnMessage(c, fmt.Appendf(nil, `{"type":"state:sub","actor":"log","actorId":%q}`, id))
	}
	got := []any{next(t, c)["actorId"], next(t, c)["actorId"]}
	assert.ElementsMatch(t, []any{"a", "b"}, got, "the first two are served")
	_, err := app.Invoke(ctxT(t), "log", "c", "tick", nil)
	require.NoError(t, err)
	assert.Len(t, c.Frames(), 3, "no snapshot or patch of c")

	h.OnMessage(c, []byte(`{"type":"state:unsub","actor":"log","actorId":"a"}`))
	h.OnMessage(c, []byte(`{"type":"state:sub","actor":"log","actorId":"c"}`))
	snap := next(t, c)
	assert.Equal(t, "c", snap["actorId"])
}
