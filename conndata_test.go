package zocket_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

// OnConnect and OnDisconnect see the connection's middleware context
// (ConnData); a connection that did not pass middleware gets none.
func TestConnCtx_LifecycleHooksSeeTheMiddlewareContext(t *testing.T) {
	strict := zocket.Then(members, func(_ context.Context, r zocket.Request[member]) (member, error) {
		if r.Data.Name == "mallory" {
			return member{}, errors.New("banned")
		}
		return r.Data, nil
	})
	seen := make(chan string, 4)
	report := func(hook string) func(l *zocket.Lifecycle[logState]) error {
		return func(l *zocket.Lifecycle[logState]) error {
			m, ok := zocket.ConnData[member](l)
			if !ok {
				m.Name = "none"
			}
			seen <- hook + " " + l.ClientID + ": " + m.Name
			return nil
		}
	}
	app := zocket.NewApp().Register("log", zocket.NewActorWith[logState](strict).Methods(bump).
		OnConnect(report("connect")).OnDisconnect(report("disconnect")))
	t.Cleanup(func() { app.Close(ctxT(t)) })
	h := zocket.NewHandler(app)
	for _, user := range []string{"alice", "mallory"} {
		c := connect(t, h, user)
		h.OnMessage(c, []byte(`{"type":"rpc","id":1,"actor":"log","actorId":"x","method":"bump"}`))
		next(t, c) // the call's result
		h.OnClose(c)
	}
	_, err := app.Invoke(ctxT(t), "log", "x", "bump", nil) // after the disconnect hooks
	require.NoError(t, err)
	close(seen)
	var got []string
	for s := range seen {
		got = append(got, s)
	}
	assert.Equal(t, []string{"connect alice: alice", "disconnect alice: alice",
		"connect mallory: none", "disconnect mallory: none"}, got)
}
