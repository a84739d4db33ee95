package wshttp

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/wscork"
)

// A TryFlush that finds bytes left corked by an earlier short write, and
// would push the cork past wscork.MaxCork, must hand the batch to the writer
// instead of flushing with a blocking write on the caller's goroutine (an
// instance's mailbox). Found under load: a fan-out stalled behind one
// subscriber that stopped reading.
func TestTryFlushNeverBlocksBehindCorkedBytes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String()) // never reads
	require.NoError(t, err)
	defer peer.Close()
	nc, err := ln.Accept()
	require.NoError(t, err)
	defer nc.Close()

	sock := &wscork.Conn{Conn: nc}
	chunk := make([]byte, 64<<10)
	for { // fill the socket
		n, err := wscork.WriteNow(nc, chunk)
		if errors.Is(err, wscork.ErrWouldBlock) || n < len(chunk) {
			break
		}
		require.NoError(t, err)
	}
	s, err := New(nil, Options{})
	require.NoError(t, err)
	c := newConn(s, nil, sock, "c1", zocket.Identity{})
	sock.Cork()
	require.NoError(t, sock.WriteText(make([]byte, 8<<10-4))) // a short write's leftover, 8 KiB with its header
	require.Equal(t, 8<<10, sock.Buffered())
	require.NoError(t, c.Queue(make([]byte, 60<<10)))

	done := make(chan struct{})
	go func() { c.TryFlush(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		nc.Close() // unblock it
		t.Fatal("TryFlush blocked on a socket without room")
	}
	require.Len(t, c.wake, 1, "the writer was woken to take the batch")
}
