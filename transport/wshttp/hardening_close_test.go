package wshttp

import (
	"net"
	"syscall"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/wscork"
)

// hookConn runs hook when a non-blocking write is about to happen.
type hookConn struct {
	*net.TCPConn
	hook func()
}

func (h hookConn) SyscallConn() (syscall.RawConn, error) {
	h.hook()
	return h.TCPConn.SyscallConn()
}

// A close asked for while TryFlush holds the writer role (a shutdown
// during a fan-out) is left to the writer goroutine, which saw the role
// taken and went back to waiting: TryFlush must wake it when it lets the
// role go, or the close waits for WriteTimeout and the peer never gets
// its 1001. Found by the shutdown contract test under load.
func TestTryFlushWakesTheWriterForACloseAskedMeanwhile(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer peer.Close()
	nc, err := ln.Accept()
	require.NoError(t, err)
	defer nc.Close()

	s, err := New(nil, Options{})
	require.NoError(t, err)
	var c *conn
	sock := &wscork.Conn{Conn: hookConn{TCPConn: nc.(*net.TCPConn), hook: func() {
		// What closeWith does, minus its timer; the writer goroutine
		// takes the wake-up, finds the role taken and waits again.
		c.mu.Lock()
		c.closed, c.closeCode, c.closeReason = true, websocket.StatusGoingAway, "bye"
		c.mu.Unlock()
	}}}
	c = newConn(s, nil, sock, "c1", zocket.Identity{})
	require.NoError(t, c.Queue([]byte(`{"type":"event"}`)))
	c.TryFlush()
	require.Len(t, c.wake, 1, "the writer was woken to perform the close")
}
