package zocket_test

import (
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/zocket-go/zocket"
)

var errDB = errors.New("db: connect postgres://admin:secret@db")

var leaky = zocket.MethodNoResult("leaky", func(c *lc, public bool) error {
	if public {
		return zocket.PublicError(errors.New("not your turn"))
	}
	return fmt.Errorf("load: %w", errDB)
})

// errorsSeen calls leaky with a private and a public error and returns the
// error texts the client received, with the App's log.
func errorsSeen(t *testing.T, opts ...zocket.Option) (private, public string, logs *syncBuffer) {
	logs = &syncBuffer{}
	opts = append(opts, zocket.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	app := zocket.NewApp(opts...).Register("log", zocket.NewActor[logState]().Methods(leaky))
	t.Cleanup(func() { app.Close(ctxT(t)) })
	h := zocket.NewHandler(app)
	c := zocket.NewLocalConn("c", zocket.Identity{})
	h.OnConnection(c)
	next(t, c) // welcome
	h.OnMessage(c, []byte(`{"type":"rpc","id":1,"actor":"log","actorId":"x","method":"leaky","input":false}`))
	private, _ = next(t, c)["error"].(string)
	h.OnMessage(c, []byte(`{"type":"rpc","id":2,"actor":"log","actorId":"x","method":"leaky","input":true}`))
	public, _ = next(t, c)["error"].(string)
	return private, public, logs
}

// By default, as in the TypeScript server, a handler's error text reaches
// the client verbatim.
func TestPublicErrors_ByDefaultErrorTextReachesTheClient(t *testing.T) {
	private, public, _ := errorsSeen(t)
	assert.Equal(t, "load: db: connect postgres://admin:secret@db", private)
	assert.Equal(t, "not your turn", public)
}

// With WithPublicErrorsOnly, only errors marked with PublicError reach the
// client; others become "Internal error" and are logged in full.
func TestPublicErrors_OnlyMarkedErrorsReachTheClient(t *testing.T) {
	private, public, logs := errorsSeen(t, zocket.WithPublicErrorsOnly())
	assert.Equal(t, "Internal error", private)
	assert.Equal(t, "not your turn", public)
	assert.Contains(t, logs.String(), "postgres://admin:secret@db")
}

// Framework errors (here: validation) are public, and App.Invoke returns
// the handler's own error, whatever the option.
func TestPublicErrors_FrameworkErrorsAndInvokeUnchanged(t *testing.T) {
	app := zocket.NewApp(zocket.WithPublicErrorsOnly()).
		Register("log", zocket.NewActor[logState]().Methods(leaky))
	t.Cleanup(func() { app.Close(ctxT(t)) })
	_, err := app.Invoke(ctxT(t), "log", "x", "leaky", []byte(`false`))
	assert.ErrorIs(t, err, errDB)

	h := zocket.NewHandler(app)
	c := zocket.NewLocalConn("c", zocket.Identity{})
	h.OnConnection(c)
	next(t, c) // welcome
	h.OnMessage(c, []byte(`{"type":"rpc","id":1,"actor":"log","actorId":"x","method":"leaky","input":"x"}`))
	assert.Contains(t, next(t, c)["error"], "Validation failed for leaky")
}
