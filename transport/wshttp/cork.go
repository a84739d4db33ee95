package wshttp

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"

	"github.com/zocket-go/zocket/internal/wsframe"
)

// maxCork is the most a corked connection buffers before writing.
const maxCork = 64 << 10

// corkConn is the hijacked socket under coder/websocket.
//
// Data frames from the server are written here directly (writeText):
// coder/websocket still does the handshake, all reading, and the control
// frames (ping, pong, close), but each of its writes costs two channel-based
// lock acquisitions and a flush, which dominated the fan-out profile. A
// server text frame is only a 2–10 byte header before the payload, and every
// writer, ours and coder's, hands this type whole frames in single Write
// calls under mu, so frames never interleave.
//
// While corked, writeText collects frames that go out together at uncork,
// so a batch of queued frames costs one system call instead of one per
// frame. coder/websocket's writes are never held back (see Write).
type corkConn struct {
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
func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.flushLocked(); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// writeText writes payload as one unmasked, unfragmented text frame.
func (c *corkConn) writeText(payload []byte) error {
	var hdr [10]byte
	h := wsframe.AppendHeader(hdr[:0], wsframe.OpText, len(payload))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.corked && len(c.buf)+len(h)+len(payload) <= maxCork {
		c.buf = append(append(c.buf, h...), payload...)
		return nil
	}
	if err := c.flushLocked(); err != nil {
		return err
	}
	bufs := net.Buffers{h, payload}
	_, err := bufs.WriteTo(c.Conn)
	return err
}

func (c *corkConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// uncork writes what was collected and stops collecting.
func (c *corkConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	return c.flushLocked()
}

func (c *corkConn) flushLocked() error {
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.buf)
	if cap(c.buf) > maxCork {
		c.buf = nil
	} else {
		c.buf = c.buf[:0]
	}
	return err
}

// corkingWriter hands coder/websocket a corkConn when it hijacks the request.
type corkingWriter struct {
	http.ResponseWriter
	conn   *corkConn
	br     *bufio.Reader // the read buffer coder/websocket reads through
	wbSize int           // buffer for coder/websocket's own writes
}

func (w *corkingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
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
	w.conn = &corkConn{Conn: nc}
	w.br = brw.Reader
	return w.conn, bufio.NewReadWriter(brw.Reader, bufio.NewWriterSize(w.conn, w.wbSize)), nil
}

var (
	errNoHijack   = errors.New("wshttp: connection was not hijacked")
	errWouldBlock = errors.New("wshttp: write would block")
)

// tryUncork writes the corked bytes with one non-blocking attempt. If the
// socket takes everything it uncorks and reports true; otherwise the rest
// stays corked (later frames queue behind it) for a blocking uncork.
func (c *corkConn) tryUncork() (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.buf) > 0 {
		n, err := writeNow(c.Conn, c.buf)
		c.buf = c.buf[:copy(c.buf, c.buf[n:])]
		if err != nil && !errors.Is(err, errWouldBlock) {
			return false, err
		}
		if len(c.buf) > 0 {
			return false, nil
		}
	}
	c.corked = false
	return true, nil
}

// buffered is how many corked bytes wait.
func (c *corkConn) buffered() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.buf)
}
