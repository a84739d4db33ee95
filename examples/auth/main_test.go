package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/testsupport/wstest"
)

func TestAuthGuideOverWebSocket(t *testing.T) {
	url := wstest.Serve(t, serve)
	secret := secretFromEnv()
	exp := time.Now().Add(time.Hour).Unix()
	member := Sign(secret, Claims{Sub: "alice", Role: "member", Exp: exp})
	admin := Sign(secret, Claims{Sub: "root", Role: "admin", Exp: exp})

	// /health beside the WebSocket endpoint.
	resp, err := http.Get("http" + strings.TrimPrefix(url, "ws") + "/health")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, `{"ok":true}`, string(body))

	// No, forged and expired tokens never upgrade.
	for _, tok := range []string{"", "x.y", member + "x", Sign(secret, Claims{Sub: "a", Exp: time.Now().Unix() - 1})} {
		_, resp, err := websocket.Dial(t.Context(), url+"/?token="+tok, nil)
		require.Error(t, err, tok)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	}

	m := wstest.DialWelcome(t, url+"/?token="+member)
	assert.Equal(t, map[string]any{"id": "alice", "role": "member"}, m.MustCall("board", "b", "whoAmI", nil))
	assert.Equal(t, 1.0, m.MustCall("board", "b", "addNote", map[string]any{"text": "hi"}))
	assert.Equal(t, "Forbidden", m.Call("board", "b", "clear", nil)["error"])

	a := wstest.DialWelcome(t, url+"/?token="+admin)
	assert.Len(t, field(a.Snapshot("board", "b"), "notes"), 1)
	r := a.Call("board", "b", "clear", nil)
	assert.NotContains(t, r, "error")
	assert.Empty(t, field(a.Snapshot("board", "b"), "notes"))
}

func TestTokens(t *testing.T) {
	now := time.Unix(1000, 0)
	tok := Sign([]byte("k"), Claims{Sub: "u", Role: "r", Exp: 2000})
	c, err := Verify([]byte("k"), tok, now)
	require.NoError(t, err)
	assert.Equal(t, Claims{Sub: "u", Role: "r", Exp: 2000}, c)
	_, err = Verify([]byte("other"), tok, now)
	assert.ErrorIs(t, err, ErrSignature)
	_, err = Verify([]byte("k"), tok, time.Unix(2000, 0))
	assert.ErrorIs(t, err, ErrExpired)
	_, err = Verify([]byte("k"), "nodot", now)
	assert.ErrorIs(t, err, ErrMalformed)
}

func field(v any, k string) []any {
	m, _ := v.(map[string]any)
	l, _ := m[k].([]any)
	return l
}
