package websocket

import (
	"bytes"
	"context"
	"io"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/zocket-go/zocket"
)

// conn is one client connection: a zocket.Connection whose Send queues
// frames for its writer goroutine.
type conn struct {
	s        *Server
	ws       *websocket.Conn
	sock     *corkConn
	id       string
	identity zocket.Identity

	mu          sync.Mutex
	queue       [][]byte
	spare       [][]byte // the previous batch's array, reused
	writing     bool     // a goroutine is writing; it drains the queue
	closed      bool
	closeCode   websocket.StatusCode
	closeReason string
	wake        chan struct{} // capacity 1
	kill        *time.Timer   // drops the socket if a requested close stalls

	ctx    context.Context // ends when the connection is done
	cancel context.CancelFunc
}

func newConn(s *Server, ws *websocket.Conn, sock *corkConn, id string, identity zocket.Identity) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	return &conn{s: s, ws: ws, sock: sock, id: id, identity: identity, wake: make(chan struct{}, 1), ctx: ctx, cancel: cancel}
}

func (c *conn) ID() string                { return c.id }
func (c *conn) Identity() zocket.Identity { return c.identity }

// Send queues frame without blocking and wakes the writer. When the queue
// is full the connection is closed as a slow consumer.
func (c *conn) Send(frame []byte) error {
	err := c.Queue(frame)
	if err == nil {
		c.signal()
	}
	return err
}

// Queue queues frame without waking anyone; see zocket.Flusher.
func (c *conn) Queue(frame []byte) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if len(c.queue) >= c.s.opts.SendQueue {
		c.closeLocked(websocket.StatusPolicyViolation, ReasonSlowConsumer)
		c.queue = nil // nothing more will be written; the close says why
		c.mu.Unlock()
		c.s.opts.Logger.Warn("websocket: slow consumer closed", "clientId", c.id)
		return ErrSlowConsumer
	}
	c.queue = append(c.queue, frame)
	c.mu.Unlock()
	return nil
}

// Flush writes queued frames on the calling goroutine when inline is true,
// unless another goroutine is already writing them; otherwise it wakes the
// writer. See zocket.Flusher.
func (c *conn) Flush(inline bool) {
	if !inline || !c.writeQueued() {
		c.signal()
	}
}

func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// closeWith asks the writer to flush what is queued, then close with code.
func (c *conn) closeWith(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	c.closeLocked(code, reason)
	c.mu.Unlock()
}

func (c *conn) closeLocked(code websocket.StatusCode, reason string) {
	if c.closed {
		return
	}
	c.closed, c.closeCode, c.closeReason = true, code, reason
	// The writer may be stuck writing to a peer that does not read: give
	// the close WriteTimeout, then drop the socket.
	c.kill = time.AfterFunc(c.s.opts.WriteTimeout, func() { c.ws.CloseNow() })
	c.signal()
}

// serve runs the connection: the writer goroutine, then the read loop on
// the calling goroutine, then cleanup.
func (c *conn) serve() {
	h := c.s.h
	h.OnConnection(c)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop()
	}()
	scratch := make([]byte, 0, 4096)
	for {
		data, err := c.readMessage(&scratch)
		if err != nil {
			if c.ctx.Err() == nil {
				c.s.opts.Logger.Debug("websocket: read ended", "clientId", c.id, "err", err)
			}
			break
		}
		h.OnMessage(c, data)
	}
	c.mu.Lock()
	c.closed = true
	c.queue = nil
	if c.kill != nil {
		c.kill.Stop()
	}
	c.mu.Unlock()
	c.cancel()
	<-writerDone
	c.ws.CloseNow()
	h.OnClose(c)
}

// readMessage reads one message through a reused scratch buffer and
// returns an exact-size copy, which the Handler keeps. No context: one with
// a Done channel costs coder/websocket a context.AfterFunc per read;
// CloseNow unblocks the read instead.
func (c *conn) readMessage(scratch *[]byte) ([]byte, error) {
	_, r, err := c.ws.Reader(context.Background())
	if err != nil {
		return nil, err
	}
	buf := (*scratch)[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if cap(buf) <= 64<<10 {
		*scratch = buf // keep a grown buffer unless it is large
	}
	return bytes.Clone(buf), nil
}

// writeLoop writes queued frames in batches, pings, and performs the close.
func (c *conn) writeLoop() {
	var ping <-chan time.Time
	if c.s.opts.PingInterval > 0 {
		t := time.NewTicker(c.s.opts.PingInterval)
		defer t.Stop()
		ping = t.C
	}
	pinging := false
	pong := make(chan error, 1)
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-ping:
			if pinging {
				continue
			}
			pinging = true
			go func() { // bounded by PingTimeout; owned by this loop via pong
				ctx, cancel := context.WithTimeout(c.ctx, c.s.opts.PingTimeout)
				defer cancel()
				pong <- c.ws.Ping(ctx)
			}()
			continue
		case err := <-pong:
			pinging = false
			if err != nil && c.ctx.Err() == nil {
				c.s.opts.Logger.Info("websocket: peer did not answer ping; dropping", "clientId", c.id, "err", err)
				c.ws.CloseNow()
				return
			}
			continue
		case <-c.wake:
		}
		if !c.writeQueued() {
			// Someone else is writing and will drain; or a close is due.
			c.mu.Lock()
			code, reason, due := c.closeCode, c.closeReason, c.closed && !c.writing && len(c.queue) == 0
			c.mu.Unlock()
			if due && code != 0 {
				c.ws.Close(code, reason)
				return
			}
		}
	}
}

// writeQueued takes the writer role and writes until the queue is empty.
// It returns false when it did not write everything: another goroutine
// holds the role, a write failed (the socket is then dropped), or a close is
// due, which only the writer goroutine performs.
func (c *conn) writeQueued() bool {
	c.mu.Lock()
	if c.writing {
		c.mu.Unlock()
		return false
	}
	c.writing = true
	for len(c.queue) > 0 {
		batch := c.queue
		c.queue = c.spare[:0]
		c.mu.Unlock()
		err := c.writeBatch(batch)
		clear(batch)
		c.mu.Lock()
		c.spare = batch
		if err != nil {
			c.writing = false
			c.mu.Unlock()
			c.s.opts.Logger.Debug("websocket: write failed", "clientId", c.id, "err", err)
			c.ws.CloseNow()
			return false
		}
	}
	c.writing = false
	closeDue := c.closed && c.closeCode != 0
	c.mu.Unlock()
	return !closeDue
}

// writeBatch writes frames back to back, corked: they reach the socket in
// as few system calls as maxCork allows. A peer that stops reading blocks
// it until pings or the slow-consumer close drop the socket.
func (c *conn) writeBatch(frames [][]byte) error {
	c.sock.cork()
	for _, f := range frames {
		var err error
		if c.s.opts.Compression == websocket.CompressionDisabled {
			err = c.sock.writeText(f)
		} else {
			err = c.ws.Write(context.Background(), websocket.MessageText, f)
		}
		if err != nil {
			c.sock.uncork()
			return err
		}
	}
	return c.sock.uncork()
}
