package zocket_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

type message struct {
	From string `json:"from"`
	Text string `json:"text" validate:"required,max=20"`
}

type room struct {
	Messages []message `json:"messages"`
	Members  []string  `json:"members"`
}

var newMessage = zocket.Event[message]("newMessage")

var sendMessage = zocket.Method("sendMessage",
	func(c *zocket.Context[room, zocket.NoData], in message) (int, error) {
		c.State.Messages = append(c.State.Messages, in)
		newMessage.Broadcast(c, in)
		return len(c.State.Messages), nil
	})

var failAfterWrite = zocket.MethodNoIO("fail",
	func(c *zocket.Context[room, zocket.NoData]) error {
		c.State.Messages = append(c.State.Messages, message{Text: "lost"})
		newMessage.Broadcast(c, message{Text: "lost"})
		return errors.New("boom")
	})

var panics = zocket.MethodNoIO("panics",
	func(c *zocket.Context[room, zocket.NoData]) error {
		c.State.Members = append(c.State.Members, "ghost")
		panic("kaboom")
	})

func chatApp() *zocket.App {
	return zocket.NewApp().Register("chat", zocket.NewActor[room]().
		Methods(sendMessage, failAfterWrite, panics).Events(newMessage))
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func next(t *testing.T, c *zocket.LocalConn) map[string]any {
	t.Helper()
	f, err := c.Next(ctxT(t))
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(f, &m), string(f))
	return m
}

func TestLocalConnSeesWireOrder(t *testing.T) {
	app := chatApp()
	h := zocket.NewHandler(app)
	c := zocket.NewLocalConn("c1", zocket.Identity{})
	h.OnConnection(c)
	assert.Equal(t, map[string]any{"type": "welcome", "clientId": "c1"}, next(t, c))

	h.OnMessage(c, []byte(`{"type":"state:sub","actor":"chat","actorId":"r"}`))
	h.OnMessage(c, []byte(`{"type":"event:sub","actor":"chat","actorId":"r"}`))
	assert.Equal(t, map[string]any{"type": "state:snapshot", "actor": "chat", "actorId": "r",
		"state": map[string]any{"messages": []any{}, "members": []any{}}}, next(t, c))

	h.OnMessage(c, []byte(`{"type":"rpc","id":1,"actor":"chat","actorId":"r","method":"sendMessage","input":{"from":"a","text":"hi"}}`))
	patch := next(t, c)
	assert.Equal(t, "state:patch", patch["type"])
	assert.Equal(t, []any{map[string]any{"op": "add", "path": "/messages/0",
		"value": map[string]any{"from": "a", "text": "hi"}}}, patch["patches"])
	ev := next(t, c)
	assert.Equal(t, "newMessage", ev["event"])
	assert.Equal(t, map[string]any{"type": "rpc:result", "id": 1.0, "result": 1.0}, next(t, c))
}

func TestFailedCallIsAtomic(t *testing.T) {
	for _, method := range []string{"fail", "panics"} {
		t.Run(method, func(t *testing.T) {
			app := chatApp()
			h := zocket.NewHandler(app)
			c := zocket.NewLocalConn("c1", zocket.Identity{})
			h.OnConnection(c)
			next(t, c)
			h.OnMessage(c, []byte(`{"type":"state:sub","actor":"chat","actorId":"r"}`))
			h.OnMessage(c, []byte(`{"type":"event:sub","actor":"chat","actorId":"r"}`))
			next(t, c)
			h.OnMessage(c, []byte(`{"type":"rpc","id":"x","actor":"chat","actorId":"r","method":"`+method+`"}`))
			res := next(t, c)
			assert.Equal(t, "rpc:result", res["type"], "no patch or event before the error")
			assert.NotEmpty(t, res["error"])
			// The actor keeps working and its state is unchanged.
			n, err := sendMessage.Invoke(ctxT(t), app, "chat", "r", message{Text: "ok"})
			require.NoError(t, err)
			assert.Equal(t, 1, n)
		})
	}
}

func TestInvokeErrors(t *testing.T) {
	app := chatApp()
	ctx := ctxT(t)
	_, err := app.Invoke(ctx, "nope", "x", "m", nil)
	assert.ErrorIs(t, err, zocket.ErrUnknownActor)
	assert.EqualError(t, err, "Unknown actor: nope")
	_, err = app.Invoke(ctx, "chat", "x", "nope", nil)
	assert.ErrorIs(t, err, zocket.ErrUnknownMethod)
	assert.EqualError(t, err, "Unknown method: nope")
	_, err = app.Invoke(ctx, "chat", "x", "sendMessage", json.RawMessage(`{"text":5}`))
	assert.ErrorIs(t, err, zocket.ErrValidation)
	var ve *zocket.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, []any{"text"}, ve.Issues[0].Path)
	_, err = app.Invoke(ctx, "chat", "x", "sendMessage", json.RawMessage(`{"from":"a","text":"this text is far too long"}`))
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, []any{"text"}, ve.Issues[0].Path)
	_, err = app.Invoke(ctx, "chat", "x", "panics", nil)
	assert.ErrorIs(t, err, zocket.ErrPanic)
}

func TestDestroyRunsOnDeactivateAndResets(t *testing.T) {
	var log []string
	type st struct {
		N int `json:"n"`
	}
	inc := zocket.MethodNoInput("inc", func(c *zocket.Context[st, zocket.NoData]) (int, error) {
		c.State.N++
		return c.State.N, nil
	})
	app := zocket.NewApp(
		zocket.WithInstanceCreated(func(a, id string) { log = append(log, "created "+a+"/"+id) }),
		zocket.WithInstanceDestroyed(func(a, id string) { log = append(log, "destroyed "+a+"/"+id) }),
	).Register("c", zocket.NewActor[st]().Methods(inc).
		OnDeactivate(func(l *zocket.Lifecycle[st]) error {
			log = append(log, fmt.Sprint("deactivate n=", l.State.N))
			return nil
		}))
	ctx := ctxT(t)
	for range 2 {
		_, err := inc.Invoke(ctx, app, "c", "1", zocket.None{})
		require.NoError(t, err)
	}
	assert.Equal(t, []zocket.InstanceInfo{{Actor: "c", ID: "1"}}, app.List())
	require.NoError(t, app.Destroy(ctx, "c", "1"))
	assert.Equal(t, 0, app.Size())
	assert.ErrorIs(t, app.Destroy(ctx, "c", "1"), zocket.ErrNotFound)
	n, err := inc.Invoke(ctx, app, "c", "1", zocket.None{})
	require.NoError(t, err)
	assert.Equal(t, 1, n, "fresh state after destroy")
	require.NoError(t, app.Close(ctx))
	assert.Equal(t, []string{"created c/1", "deactivate n=2", "destroyed c/1", "created c/1",
		"deactivate n=1", "destroyed c/1"}, log)
	_, err = inc.Invoke(ctx, app, "c", "1", zocket.None{})
	assert.ErrorIs(t, err, zocket.ErrClosed)
}
