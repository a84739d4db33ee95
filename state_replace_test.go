package zocket_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

type board struct {
	Title string   `json:"title"`
	Cards []string `json:"cards"`
}

type boardCtx = zocket.Context[board, zocket.NoData]

var getBoard = zocket.MethodNoInput("get", func(c *boardCtx) (board, error) { return *c.State, nil })

func TestContextState_ReplacingThePointerCommitsTheNewValue(t *testing.T) {
	template := &board{Title: "fresh", Cards: []string{"a"}}
	reset := zocket.MethodNoIO("reset", func(c *boardCtx) error {
		c.State = template
		return nil
	})
	app := zocket.NewApp().Register("b", zocket.NewActor[board]().Methods(reset, getBoard))
	h := zocket.NewHandler(app)
	conn := zocket.NewLocalConn("c1", zocket.Identity{})
	h.OnConnection(conn)
	next(t, conn)
	h.OnMessage(conn, []byte(`{"type":"state:sub","actor":"b","actorId":"1"}`))
	next(t, conn) // snapshot

	ctx := context.Background()
	_, err := reset.Invoke(ctx, app, "b", "1", zocket.None{})
	require.NoError(t, err)
	got, err := getBoard.Invoke(ctx, app, "b", "1", zocket.None{})
	require.NoError(t, err)
	assert.Equal(t, board{Title: "fresh", Cards: []string{"a"}}, got)
	patch := next(t, conn)
	assert.Equal(t, "state:patch", patch["type"], "subscribers see the replacement")

	template.Cards[0] = "changed later"
	got, err = getBoard.Invoke(ctx, app, "b", "1", zocket.None{})
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, got.Cards, "the state shares no memory with the handler's value")
}

func TestContextState_ReplacementIsDiscardedWhenTheCallFails(t *testing.T) {
	wipe := zocket.MethodNoIO("wipe", func(c *boardCtx) error {
		c.State = &board{}
		return assert.AnError
	})
	app := zocket.NewApp().Register("b", zocket.NewActor[board]().
		Initial(func() board { return board{Title: "kept"} }).Methods(wipe, getBoard))
	ctx := context.Background()
	_, err := wipe.Invoke(ctx, app, "b", "1", zocket.None{})
	require.ErrorIs(t, err, assert.AnError)
	got, err := getBoard.Invoke(ctx, app, "b", "1", zocket.None{})
	require.NoError(t, err)
	assert.Equal(t, "kept", got.Title)
}

func TestContextState_SettingNilFailsTheCall(t *testing.T) {
	nilState := zocket.MethodNoIO("clear", func(c *boardCtx) error {
		c.State = nil
		return nil
	})
	app := zocket.NewApp().Register("b", zocket.NewActor[board]().
		Initial(func() board { return board{Title: "kept"} }).Methods(nilState, getBoard))
	ctx := context.Background()
	_, err := nilState.Invoke(ctx, app, "b", "1", zocket.None{})
	require.ErrorIs(t, err, zocket.ErrStateNil)
	assert.EqualError(t, err, "State set to nil", "the text a client receives has no Go package prefix")
	got, err := getBoard.Invoke(ctx, app, "b", "1", zocket.None{})
	require.NoError(t, err)
	assert.Equal(t, "kept", got.Title)
}

func TestLifecycleState_ReplacingThePointerCommitsTheNewValue(t *testing.T) {
	app := zocket.NewApp().Register("b", zocket.NewActor[board]().Methods(getBoard).
		OnActivate(func(c *zocket.Lifecycle[board]) error {
			c.State = &board{Title: "activated"}
			return nil
		}))
	got, err := getBoard.Invoke(context.Background(), app, "b", "1", zocket.None{})
	require.NoError(t, err)
	assert.Equal(t, "activated", got.Title)
}

func TestContextState_FlushPublishesAReplacedState(t *testing.T) {
	rewrite := zocket.MethodNoIO("rewrite", func(c *boardCtx) error {
		c.State = &board{Title: "flushed"}
		c.Flush() // the first flush always publishes
		return assert.AnError
	}).Streaming(0)
	app := zocket.NewApp().Register("b", zocket.NewActor[board]().Methods(rewrite, getBoard))
	ctx := context.Background()
	_, err := rewrite.Invoke(ctx, app, "b", "1", zocket.None{})
	require.ErrorIs(t, err, assert.AnError)
	got, err := getBoard.Invoke(ctx, app, "b", "1", zocket.None{})
	require.NoError(t, err)
	assert.Equal(t, "flushed", got.Title, "what a streaming method flushed stays, replaced or not")
}
