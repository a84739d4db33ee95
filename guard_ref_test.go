package zocket_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

type steps struct {
	Trace []string `json:"trace"`
}

type stepCtx struct{ Who string }

func TestGuard_RunsAfterMiddlewareWithItsContextAndBeforeTheHandler(t *testing.T) {
	var order []string
	chain := zocket.Use(func(_ context.Context, r zocket.Request[zocket.NoData]) (stepCtx, error) {
		order = append(order, "middleware")
		return stepCtx{Who: r.Identity.UserID}, nil
	})
	run := zocket.MethodNoIO("run", func(c *zocket.Context[steps, stepCtx]) error {
		order = append(order, "handler")
		c.State.Trace = append(c.State.Trace, "ran")
		return nil
	}).Guard(func(_ context.Context, r zocket.Request[stepCtx]) error {
		order = append(order, "guard 1 sees "+r.Data.Who+" calling "+r.Method)
		return nil
	}).Guard(func(_ context.Context, r zocket.Request[stepCtx]) error {
		order = append(order, "guard 2")
		if r.Data.Who != "ada" {
			return errors.New("Forbidden")
		}
		return nil
	})
	read := zocket.MethodNoInput("read", func(c *zocket.Context[steps, stepCtx]) ([]string, error) {
		return c.State.Trace, nil
	})
	app := zocket.NewApp().Register("s", zocket.NewActorWith[steps](chain).Methods(run, read))
	ref := app.Ref("s", "1")

	_, err := run.Call(zocket.WithIdentity(context.Background(), zocket.Identity{UserID: "bob"}), ref, zocket.None{})
	assert.EqualError(t, err, "Forbidden")
	assert.Equal(t, []string{"middleware", "guard 1 sees bob calling run", "guard 2"}, order)

	order = nil
	_, err = run.Call(zocket.WithIdentity(context.Background(), zocket.Identity{UserID: "ada"}), ref, zocket.None{})
	require.NoError(t, err)
	assert.Equal(t, []string{"middleware", "guard 1 sees ada calling run", "guard 2", "handler"}, order)

	trace, err := zocket.CallNoInput(context.Background(), ref, read)
	require.NoError(t, err)
	assert.Equal(t, []string{"ran"}, trace, "a refused call changed nothing")
}

func TestGuard_DoesNotRunForTheServersOwnCalls(t *testing.T) {
	guarded := zocket.MethodNoIO("guarded", func(c *zocket.Context[steps, zocket.NoData]) error {
		c.State.Trace = append(c.State.Trace, "guarded ran")
		return nil
	}).Guard(func(context.Context, zocket.Request[zocket.NoData]) error { return errors.New("Forbidden") })
	tell := zocket.MethodNoIO("tell", func(c *zocket.Context[steps, zocket.NoData]) error {
		guarded.Tell(c, "s", "1", zocket.None{})
		return nil
	})
	read := zocket.MethodNoInput("read", func(c *zocket.Context[steps, zocket.NoData]) ([]string, error) {
		return c.State.Trace, nil
	})
	app := zocket.NewApp().Register("s", zocket.NewActor[steps]().Methods(guarded, tell, read))
	ref := app.Ref("s", "1")
	ctx := context.Background()
	_, err := guarded.Call(ctx, ref, zocket.None{})
	assert.EqualError(t, err, "Forbidden")
	_, err = tell.Call(ctx, ref, zocket.None{})
	require.NoError(t, err)
	trace, err := read.Call(ctx, ref, zocket.None{}) // queued behind the told call
	require.NoError(t, err)
	assert.Equal(t, []string{"guarded ran"}, trace)
}

// Call takes the method's input type, None for a method without input: a
// wrong or missing input does not compile.
func TestMethodCall_TakesTheInputTypeTheMethodDeclares(t *testing.T) {
	echo := zocket.Method("echo", func(_ *zocket.Context[steps, zocket.NoData], in string) (string, error) {
		return in, nil
	})
	ping := zocket.MethodNoInput("ping", func(*zocket.Context[steps, zocket.NoData]) (string, error) {
		return "pong", nil
	})
	app := zocket.NewApp().Register("s", zocket.NewActor[steps]().Methods(echo, ping))
	ref := app.Ref("s", "1")
	assert.Equal(t, "s", ref.Actor())
	assert.Equal(t, "1", ref.ID())
	assert.Same(t, app, ref.App())
	ctx := context.Background()

	got, err := echo.Call(ctx, ref, "hi")
	require.NoError(t, err)
	assert.Equal(t, "hi", got)

	got, err = ping.Call(ctx, ref, zocket.None{})
	require.NoError(t, err)
	assert.Equal(t, "pong", got)

	_, err = ping.Call(ctx, zocket.Ref{}, zocket.None{})
	assert.EqualError(t, err, "zocket: ping called on a zero Ref")

	raw, err := app.Invoke(ctx, "s", "1", "ping", nil)
	require.NoError(t, err)
	assert.Equal(t, json.RawMessage(`"pong"`), raw)
}
