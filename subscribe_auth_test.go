package zocket_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

type member struct{ Name string }

// members resolves the caller from its identity, as an auth middleware
// would.
var members = zocket.Use(func(_ context.Context, r zocket.Request[zocket.NoData]) (member, error) {
	return member{Name: r.Identity.UserID}, nil
})

var bump = zocket.MethodNoIO("bump", func(c *zocket.Context[logState, member]) error {
	c.State.N++
	return nil
})

// connect opens a connection for user and drops its welcome.
func connect(t *testing.T, h *zocket.Handler, user string) *zocket.LocalConn {
	c := zocket.NewLocalConn(user, zocket.Identity{UserID: user})
	h.OnConnection(c)
	next(t, c)
	return c
}

// OnSubscribe sees the middleware's context and the message type; a
// subscription it refuses sends nothing, not even later patches.
func TestOnSubscribe_RefusesWithTheMiddlewareContext(t *testing.T) {
	var types []string
	app := zocket.NewApp().Register("log", zocket.NewActorWith[logState](members).Methods(bump).
		OnSubscribe(func(_ context.Context, r zocket.Request[member]) error {
			types = append(types, r.Method) // runs on the mailbox: one at a time
			if r.Data.Name != "alice" {
				return errors.New("members only")
			}
			return nil
		}))
	t.Cleanup(func() { app.Close(ctxT(t)) })
	h := zocket.NewHandler(app)
	alice, bob := connect(t, h, "alice"), connect(t, h, "bob")

	h.OnMessage(bob, []byte(`{"type":"state:sub","actor":"log","actorId":"x"}`))
	h.OnMessage(alice, []byte(`{"type":"state:sub","actor":"log","actorId":"x"}`))
	assert.Equal(t, "state:snapshot", next(t, alice)["type"])
	_, err := app.Invoke(ctxT(t), "log", "x", "bump", nil)
	require.NoError(t, err)
	assert.Equal(t, "state:patch", next(t, alice)["type"])
	assert.Len(t, bob.Frames(), 1, "only welcome")
	assert.Equal(t, []string{"state:sub", "state:sub"}, types)
}

// Without OnSubscribe, subscriptions are allowed and middleware does not
// run for them, as in the TypeScript server.
func TestOnSubscribe_AllowsByDefaultWithoutRunningMiddleware(t *testing.T) {
	deny := zocket.Use(func(context.Context, zocket.Request[zocket.NoData]) (member, error) {
		return member{}, errors.New("no calls")
	})
	app := zocket.NewApp().Register("log", zocket.NewActorWith[logState](deny).Methods(bump))
	t.Cleanup(func() { app.Close(ctxT(t)) })
	h := zocket.NewHandler(app)
	c := connect(t, h, "carol")
	h.OnMessage(c, []byte(`{"type":"state:sub","actor":"log","actorId":"x"}`))
	assert.Equal(t, "state:snapshot", next(t, c)["type"])
}

// Subscribing and unsubscribing again and again while the instance is busy
// queues one authorization, not one per subscription: the mailbox does not
// grow with a client's churn.
func TestOnSubscribe_ChurnWhileBusyQueuesOneAuthorization(t *testing.T) {
	var checks atomic.Int32
	started, release := make(chan struct{}), make(chan struct{})
	hold := zocket.MethodNoIO("hold", func(*zocket.Context[logState, member]) error {
		close(started)
		<-release
		return nil
	})
	app := zocket.NewApp().Register("log", zocket.NewActorWith[logState](members).Methods(hold).
		OnSubscribe(func(context.Context, zocket.Request[member]) error { checks.Add(1); return nil }))
	t.Cleanup(func() { app.Close(ctxT(t)) })
	h := zocket.NewHandler(app)
	c := connect(t, h, "alice")
	h.OnMessage(c, []byte(`{"type":"rpc","id":1,"actor":"log","actorId":"x","method":"hold"}`))
	<-started

	for range 1000 {
		h.OnMessage(c, []byte(`{"type":"event:sub","actor":"log","actorId":"x"}`))
		h.OnMessage(c, []byte(`{"type":"event:unsub","actor":"log","actorId":"x"}`))
	}
	h.OnMessage(c, []byte(`{"type":"state:sub","actor":"log","actorId":"x"}`))
	close(release)
	assert.Equal(t, "rpc:result", next(t, c)["type"])
	assert.Equal(t, "state:snapshot", next(t, c)["type"])
	assert.Equal(t, int32(2), checks.Load(), "one event:sub (then dropped: unsubscribed), one state:sub")
}
