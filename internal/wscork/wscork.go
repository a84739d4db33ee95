// Package wscork writes a WebSocket server's data frames straight to the
// socket under github.com/coder/websocket, corked so that a batch of frames
// leaves in one system call.
//
// coder/websocket still does the handshake, all reading, and the control
// frames (ping, pong, close), but each of its writes costs two
// channel-based lock acquisitions and a flush, which dominates a fan-out
// profile. A server text frame is only a 2–10 byte header before the
// payload, so the transports write data frames themselves: Writer hands
// coder/websocket a Conn when it hijacks the request, and the transport
// writes through that Conn.
package wscork

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"

	"github.com/zocket-go/zocket/internal/wsframe"
)

// MaxCork is the most a corked connection buffers before writing.
const MaxCork = 64 << 10

// maxHeader is the longest header of a server frame.
const maxHeader = 10

var (
	// ErrWouldBlock reports that a non-blocking write found no room.
	ErrWouldBlock = errors.New("wscork: write would block")
	// ErrNotHijacked reports an upgrade that did not go through
	// Writer.Hijack, so that there is no Conn to write to.
	ErrNotHijacked = errors.New("wscork: connection was not hijacked")
)

// Conn is the hijacked socket under coder/websocket.
//
// Every writer, the transport's and coder's, hands Conn whole frames in
// single calls under one lock, so frames never interleave. While corked,
// WriteText collects frames that go out together at Uncork, so a batch of
// queued frames costs one system call instead of one per frame.
// coder/websocket's writes are never held back (see Write).
type Conn struct {
	net.Conn
	mu     sync.Mutex
	corked bool
	buf    []byte
}

// Write is coder/websocket's write: it sends what is corked, then p, at
// once, even while corked. coder/websocket closes the socket right after
// writing a close frame (its answer to the peer's, from its read loop), so
// a close frame left in the cork buffer would be lost with the socket and
// the peer's closing handshake would fail.
func (c *Conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.flushLocked(); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// WriteText writes payload as one unmasked, unfragmented text frame: into
// the cork buffer while corked and there is room, else to the socket.
func (c *Conn) WriteText(payload []byte) error {
	var hdr [maxHeader]byte
	h := wsframe.AppendHeader(hdr[:0], wsframe.OpText, len(payload))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.corked && len(c.buf)+len(h)+len(payload) <= MaxCork {
		c.buf = append(append(c.buf, h...), payload...)
		return nil
	}
	if err := c.flushLocked(); err != nil {
		return err
	}
	// A copy of the header: hdr stays on the stack when corked, and
	// only a direct write allocates.
	var direct [maxHeader]byte
	bufs := net.Buffers{direct[:copy(direct[:], h)], payload}
	_, err := bufs.WriteTo(c.Conn)
	return err
}

// WriteBatch writes frames as text frames back to back, corked, and
// uncorks: frames that fit MaxCork together leave in one system call.
func (c *Conn) WriteBatch(frames [][]byte) error {
	c.Cork()
	for _, f := range frames {
		if err := c.WriteText(f); err != nil {
			c.Uncork()
			return err
		}
	}
	return c.Uncork()
}

// Cork makes WriteText collect frames until Uncork.
func (c *Conn) Cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// Uncork writes what was collected and stops collecting.
func (c *Conn) Uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	return c.flushLocked()
}

func (c *Conn) flushLocked() error {
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.buf)
	if cap(c.buf) > MaxCork {
		c.buf = nil
	} else {
		c.buf = c.buf[:0]
	}
	return err
}

// TryUncork writes the corked bytes with one non-blocking attempt. If the
// socket takes everything it uncorks and reports true; otherwise the rest
// stays corked (later frames queue behind it) for a blocking Uncork.
func (c *Conn) TryUncork() (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.buf) > 0 {
		n, err := WriteNow(c.Conn, c.buf)
		c.buf = c.buf[:copy(c.buf, c.buf[n:])]
		if err != nil && !errors.Is(err, ErrWouldBlock) {
			return false, err
		}
		if len(c.buf) > 0 {
			return false, nil
		}
	}
	c.corked = false
	return true, nil
}

// Buffered is how many corked bytes wait.
func (c *Conn) Buffered() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.buf)
}

// Writer hands coder/websocket a Conn when it hijacks the request: pass it
// to websocket.Accept in place of the http.ResponseWriter.
type Writer struct {
	http.ResponseWriter
	// WriteBufferSize is the size of the buffer for coder/websocket's own
	// writes: its control frames, and its data frames if compressed.
	WriteBufferSize int
	// Conn is the hijacked socket, set by a successful Hijack.
	Conn *Conn
	// Reader is the read buffer coder/websocket reads through, set by a
	// successful Hijack.
	Reader *bufio.Reader
}

// Hijack hijacks the underlying connection and wraps it in a Conn.
func (w *Writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if brw.Writer.Buffered() > 0 {
		if err := brw.Writer.Flush(); err != nil {
			nc.Close()
			return nil, nil, err
		}
	}
	w.Conn = &Conn{Conn: nc}
	w.Reader = brw.Reader
	return w.Conn, bufio.NewReadWriter(brw.Reader, bufio.NewWriterSize(w.Conn, w.WriteBufferSize)), nil
}
