package zocket_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

// subscribeBeforeActivation connects c to an actor whose onActivate waits
// for release and sends it a state:sub, which queues behind onActivate.
func subscribeBeforeActivation(t *testing.T) (*zocket.App, *zocket.Handler, *zocket.LocalConn, chan struct{}) {
	release := make(chan struct{})
	app := zocket.NewApp().Register("log", zocket.NewActor[logState]().Methods(tick).
		OnActivate(func(*zocket.Lifecycle[logState]) error { <-release; return nil }))
	t.Cleanup(func() { app.Close(ctxT(t)) })
	h := zocket.NewHandler(app)
	c := zocket.NewLocalConn("c", zocket.Identity{})
	h.OnConnection(c)
	h.OnMessage(c, []byte(`{"type":"state:sub","actor":"log","actorId":"x"}`))
	return app, h, c, release
}

// A state:sub queued behind onActivate from a connection that closes
// meanwhile is dropped: the closed connection never becomes a subscriber
// and later commits encode nothing for it.
func TestStateSubQueuedBehindActivation_DroppedWhenConnectionCloses(t *testing.T) {
	app, h, c, release := subscribeBeforeActivation(t)
	h.OnClose(c)
	close(release)

	_, err := app.Invoke(ctxT(t), "log", "x", "tick", nil) // runs after the queued subscription
	require.NoError(t, err)
	assert.Len(t, c.Frames(), 1, "only welcome: no snapshot, no patch")
}

// A state:unsub that follows a state:sub queued behind onActivate cancels
// it.
func TestStateUnsubBeforeActivation_CancelsQueuedSub(t *testing.T) {
	app, h, c, release := subscribeBeforeActivation(t)
	h.OnMessage(c, []byte(`{"type":"state:unsub","actor":"log","actorId":"x"}`))
	close(release)

	_, err := app.Invoke(ctxT(t), "log", "x", "tick", nil)
	require.NoError(t, err)
	assert.Len(t, c.Frames(), 1, "only welcome: no snapshot, no patch")
}
