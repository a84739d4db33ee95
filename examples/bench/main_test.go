package main

import (
	"context"
	"log/slog"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/testsupport/wstest"
)

func TestBenchActorsMatchLoadgen(t *testing.T) {
	for _, transport := range []string{"websocket", "gobwas"} {
		t.Run(transport, func(t *testing.T) { checkActors(t, wstest.Serve(t, serve(transport))) })
	}
}

func TestUnknownTransportIsAnError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	err = serve("carrier-pigeon")(context.Background(), ln, slog.New(slog.DiscardHandler))
	assert.ErrorContains(t, err, `unknown TRANSPORT "carrier-pigeon"`)
}

func checkActors(t *testing.T, url string) {
	c := wstest.DialWelcome(t, url)
	assert.Equal(t, 1.0, c.MustCall("counter", "a", "increment", nil))
	assert.Equal(t, 6.0, c.MustCall("counter", "a", "add", map[string]any{"amount": 5}))

	c.Sub("event:sub", "chat", "room")
	r := c.Call("chat", "room", "send", map[string]any{"from": "f", "text": "t"})
	assert.Equal(t, map[string]any{"n": 1.0}, r["result"])

	assert.Equal(t, 3.0, c.MustCall("big", "b", "seed", map[string]any{"n": 3}))
	assert.Equal(t, map[string]any{"items": []any{
		map[string]any{"id": 0.0, "v": "x0"}, map[string]any{"id": 1.0, "v": "x1"}, map[string]any{"id": 2.0, "v": "x2"}}},
		c.Snapshot("big", "b"))
	c.RPC("big", "b", "touch", map[string]any{"i": 1})
	p := c.Next()
	assert.Equal(t, []any{map[string]any{"op": "replace", "path": "/items/1/v", "value": "t1"}}, p["patches"])
	c.Next()
	assert.Contains(t, c.Call("big", "b", "touch", map[string]any{"i": 9})["error"], "out of range")
	assert.Equal(t, 4.0, c.MustCall("big", "b", "append", nil))
}

func TestBenchActorsMatchLoadgen_Durable(t *testing.T) {
	t.Setenv("DATA", t.TempDir())
	checkActors(t, wstest.Serve(t, serve("")))
}
