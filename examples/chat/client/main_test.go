package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/examples/chat/chatroom"
	"github.com/zocket-go/zocket/internal/wstest"
	"github.com/zocket-go/zocket/transport/websocket"
)

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestTwoClientsChat(t *testing.T) {
	url := wstest.Serve(t, func(ctx context.Context, ln net.Listener, log *slog.Logger) error {
		app := zocket.NewApp(zocket.WithLogger(log)).Register("chat", chatroom.Actor())
		return websocket.Serve(ctx, ln, app, websocket.Options{Logger: log})
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	aliceIn, aliceW := io.Pipe()
	var aliceOut, bobOut syncBuf
	done := make(chan error, 2)
	go func() { done <- run(ctx, url, "general", "Alice", aliceIn, &aliceOut) }()
	bobIn, bobW := io.Pipe()
	go func() { done <- run(ctx, url, "general", "Bob", bobIn, &bobOut) }()

	waitFor := func(b *syncBuf, s string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(b.String(), s) {
			if time.Now().After(deadline) {
				t.Fatalf("never saw %q in %q", s, b.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(&aliceOut, "* joined general as Alice")
	waitFor(&bobOut, "* joined general as Bob")
	_, err := aliceW.Write([]byte("hello bob\n"))
	require.NoError(t, err)
	waitFor(&bobOut, "Alice: hello bob")
	waitFor(&aliceOut, "Alice: hello bob")
	_, err = bobW.Write([]byte("hi alice\n"))
	require.NoError(t, err)
	waitFor(&aliceOut, "Bob: hi alice")

	// A newcomer sees the history.
	var carolOut syncBuf
	carolIn, carolW := io.Pipe()
	go func() { done <- run(ctx, url, "general", "Carol", carolIn, &carolOut) }()
	waitFor(&carolOut, "Bob: hi alice")
	assert.Contains(t, carolOut.String(), "Alice: hello bob")

	aliceW.Close()
	bobW.Close()
	carolW.Close()
	for range 3 {
		require.NoError(t, <-done)
	}
}
