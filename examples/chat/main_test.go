package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/zocket-go/zocket/internal/testsupport/wstest"
)

func TestChatOverWebSocket(t *testing.T) {
	url := wstest.Serve(t, serve)
	alice, bob := wstest.DialWelcome(t, url), wstest.DialWelcome(t, url)
	bob.Sub("event:sub", "chat", "general")
	assert.Equal(t, map[string]any{"messages": []any{}}, bob.Snapshot("chat", "general"))

	r := alice.Call("chat", "general", "sendMessage", map[string]any{"from": "Alice", "text": "Hello!"})
	assert.Equal(t, wstest.Frame{"type": "rpc:result", "id": r["id"]}, r)
	patch := bob.Next()
	assert.Equal(t, []any{map[string]any{"op": "add", "path": "/messages/0",
		"value": map[string]any{"from": "Alice", "text": "Hello!"}}}, patch["patches"])
	ev := bob.Next()
	assert.Equal(t, "newMessage", ev["event"])

	bad := alice.Call("chat", "general", "sendMessage", map[string]any{"from": "Alice"})
	assert.Contains(t, bad["error"], "Validation failed for sendMessage: ")
}
