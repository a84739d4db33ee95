package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/testsupport/wstest"
)

func TestDrawGameOverWebSocket(t *testing.T) {
	url := wstest.Serve(t, serve)
	alice, bob := wstest.DialWelcome(t, url), wstest.DialWelcome(t, url)
	alice.Sub("event:sub", "draw", "room")

	assert.Equal(t, "Need at least 2 players", alice.Call("draw", "room", "startRound", nil)["error"])
	a := alice.MustCall("draw", "room", "join", map[string]any{"name": "Alice"}).(map[string]any)
	b := bob.MustCall("draw", "room", "join", map[string]any{"name": "Bob"}).(map[string]any)
	alice.MustCall("draw", "room", "startRound", nil)

	state := bob.Snapshot("draw", "room").(map[string]any)
	assert.Equal(t, "drawing", state["phase"])
	assert.Equal(t, a["playerId"], state["drawerId"])
	word := state["word"].(string)

	alice.MustCall("draw", "room", "draw", map[string]any{"stroke": map[string]any{
		"points": [][]float64{{0, 0}, {10, 5}}, "color": "#000", "width": 2}})
	p := bob.Next()
	assert.Equal(t, "/strokes/0", p["patches"].([]any)[0].(map[string]any)["path"])

	assert.Equal(t, map[string]any{"correct": false}, bob.MustCall("draw", "room", "guess", map[string]any{"playerId": b["playerId"], "text": "nope"}))
	assert.Equal(t, map[string]any{"correct": true}, bob.MustCall("draw", "room", "guess", map[string]any{"playerId": b["playerId"], "text": word}))
	ev := alice.Until(func(f wstest.Frame) bool { return f.Type() == "event" })
	assert.Equal(t, map[string]any{"name": "Bob", "word": word}, ev[len(ev)-1]["payload"])

	// The drawer leaves: onDisconnect removes her.
	alice.Close()
	for {
		f := bob.Next()
		if f.Type() != "state:patch" {
			continue
		}
		s := bob.Snapshot("draw", "room").(map[string]any)
		if len(s["players"].([]any)) == 1 {
			require.Equal(t, "Bob", s["players"].([]any)[0].(map[string]any)["name"])
			return
		}
	}
}
