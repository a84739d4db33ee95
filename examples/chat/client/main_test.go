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
	"github.com/zocket-go/zocket/internal/testsupport/poll"
	"github.com/zocket-go/zocket/internal/testsupport/wstest"
	"github.com/zocket-go/zocket/transport/wshttp"
)

// syncBuf is a client's output: safe to read while the client writes,
// and it signals every write so a test can wait for a line.
type syncBuf struct {
	mu      sync.Mutex
	b       strings.Builder
	written chan struct{} // one pending signal: something was written
}

func newSyncBuf() *syncBuf { return &syncBuf{written: make(chan struct{}, 1)} }

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case s.written <- struct{}{}:
	default:
	}
	return s.b.Write(p)
}

func (s *syncBuf) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// waitFor returns once the output contains want, checking after each
// write; the deadline only bounds a failure.
func (s *syncBuf) waitFor(t *testing.T, want string) {
	t.Helper()
	timeout := time.After(poll.Deadline)
	for !strings.Contains(s.String(), want) {
		select {
		case <-s.written:
		case <-timeout:
			t.Fatalf("never saw %q in %q", want, s.String())
		}
	}
}

func TestTwoClientsChat(t *testing.T) {
	url := wstest.Serve(t, func(ctx context.Context, ln net.Listener, log *slog.Logger) error {
		app := zocket.NewApp(zocket.WithLogger(log)).Register("chat", chatroom.Actor())
		return wshttp.Serve(ctx, ln, app, wshttp.Options{Logger: log})
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	aliceIn, aliceW := io.Pipe()
	aliceOut, bobOut := newSyncBuf(), newSyncBuf()
	done := make(chan error, 2)
	go func() { done <- run(ctx, url, "general", "Alice", aliceIn, aliceOut) }()
	bobIn, bobW := io.Pipe()
	go func() { done <- run(ctx, url, "general", "Bob", bobIn, bobOut) }()

	aliceOut.waitFor(t, "* joined general as Alice")
	bobOut.waitFor(t, "* joined general as Bob")
	// Bob's subscription reaches the server on his own socket, in no set
	// order with Alice's messages on hers: Bob seeing his own first line
	// proves the server has it.
	_, err := bobW.Write([]byte("here\n"))
	require.NoError(t, err)
	bobOut.waitFor(t, "Bob: here")
	_, err = aliceW.Write([]byte("hello bob\n"))
	require.NoError(t, err)
	bobOut.waitFor(t, "Alice: hello bob")
	aliceOut.waitFor(t, "Alice: hello bob")
	_, err = bobW.Write([]byte("hi alice\n"))
	require.NoError(t, err)
	aliceOut.waitFor(t, "Bob: hi alice")

	// A newcomer sees the history.
	carolOut := newSyncBuf()
	carolIn, carolW := io.Pipe()
	go func() { done <- run(ctx, url, "general", "Carol", carolIn, carolOut) }()
	carolOut.waitFor(t, "Bob: hi alice")
	assert.Contains(t, carolOut.String(), "Alice: hello bob")

	aliceW.Close()
	bobW.Close()
	carolW.Close()
	for range 3 {
		require.NoError(t, <-done)
	}
}
