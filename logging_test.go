package zocket_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Bad input gets its log line: what happened, to whom.
func TestBadInputIsLogged(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	app := zocket.NewApp(zocket.WithLogger(log)).Register("chat", zocket.NewActor[room]().
		Methods(sendMessage, panics).Events(newMessage))
	h := zocket.NewHandler(app)
	c := zocket.NewLocalConn("c1", zocket.Identity{})
	h.Attach(c)
	for _, f := range []string{`not json`, `[]`, `{"type":"bogus"}`, `{"type":"rpc","id":1,"actor":"nope","actorId":"x","method":"m"}`,
		`{"type":"rpc","id":2,"actor":"chat","actorId":"x","method":"panics"}`} {
		h.OnMessage(c, []byte(f))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range 2 { // the two rpc results
		_, err := c.Next(ctx)
		require.NoError(t, err)
	}
	out := logs.String()
	for _, want := range []string{"invalid JSON", "not a JSON object", `unknown type \"bogus\"`, "rpc for unknown actor",
		"handler panicked", "kaboom", "stack=", "clientId=c1"} {
		assert.True(t, strings.Contains(out, want), "log lacks %q:\n%s", want, out)
	}
}
