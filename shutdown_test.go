package zocket_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

// After Close, an rpc from a connection opened before is answered with an
// error, and a new connection gets no welcome but is closed with 1001.
func TestClosedApp_AnswersRPCsAndRefusesConnections(t *testing.T) {
	app := chatApp()
	h := zocket.NewHandler(app)
	old := zocket.NewLocalConn("old", zocket.Identity{})
	h.OnConnection(old)
	next(t, old) // welcome
	require.NoError(t, app.Close(ctxT(t)))

	h.OnMessage(old, []byte(`{"type":"rpc","id":7,"actor":"chat","actorId":"r","method":"panics"}`))
	assert.Equal(t, map[string]any{"type": "rpc:result", "id": 7.0, "error": "server shutting down"}, next(t, old))

	late := zocket.NewLocalConn("late", zocket.Identity{})
	h.OnConnection(late)
	assert.Empty(t, late.Frames(), "no welcome")
	code, reason := late.CloseReason()
	assert.Equal(t, zocket.CloseGoingAway, code)
	assert.Equal(t, "server shutting down", reason)
}

// blockingApp has a method "wait" that signals started, then blocks until
// its context ends (cooperative) or, with stubborn, until release closes.
func blockingApp(t *testing.T, stubborn bool, opts ...zocket.Option) (app *zocket.App, started, release chan struct{}, hookErr chan error) {
	started, release, hookErr = make(chan struct{}), make(chan struct{}), make(chan error, 1)
	wait := zocket.MethodNoIO("wait", func(c *lc) error {
		close(started)
		if stubborn {
			<-release
			return nil
		}
		<-c.Context().Done()
		return c.Context().Err()
	})
	app = zocket.NewApp(opts...).Register("log", zocket.NewActor[logState]().Methods(wait).
		OnDeactivate(func(l *zocket.Lifecycle[logState]) error { hookErr <- l.Context().Err(); return nil }))
	h := zocket.NewHandler(app)
	c := zocket.NewLocalConn("c", zocket.Identity{})
	h.OnConnection(c)
	h.OnMessage(c, []byte(`{"type":"rpc","id":1,"actor":"log","actorId":"x","method":"wait"}`))
	<-started
	return app, started, release, hookErr
}

// Close cancels the context of running methods when it begins, so a
// method that honours it lets Close finish at once; onDeactivate then
// still gets a live context.
func TestClose_CancelsRunningMethodsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		app, _, _, hookErr := blockingApp(t, false)
		start := time.Now()
		require.NoError(t, app.Close(context.Background()))
		assert.Zero(t, time.Since(start), "no waiting for a deadline")
		assert.NoError(t, <-hookErr, "onDeactivate's context is live")
	})
}

// A method that ignores its context holds Close for the grace period at
// most (WithShutdownGrace), even with a context without deadline.
func TestClose_WaitsAtMostTheGracePeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		app, _, release, _ := blockingApp(t, true, zocket.WithShutdownGrace(3*time.Second))
		start := time.Now()
		err := app.Close(context.Background())
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 3*time.Second, time.Since(start))
		close(release) // let the bubble's goroutines end
	})
}
