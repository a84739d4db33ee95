package websocket

import (
	"context"
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
	id       string
	identity zocket.Identity

	mu          sync.Mutex
	queue       [][]byte
	closed      bool
	closeCode   websocket.StatusCode
	closeReason string
	wake        chan struct{} // capacity 1

	ctx    context.Context // ends when the connection is done
	cancel context.CancelFunc
}

func newConn(s *Server, ws *websocket.Conn, id string, identity zocket.Identity) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	return &conn{s: s, ws: ws, id: id, identity: identity, wake: make(chan struct{}, 1), ctx: ctx, cancel: cancel}
}

func (c *conn) ID() string                { return c.id }
func (c *conn) Identity() zocket.Identity { return c.identity }

// Send queues frame without blocking. When the queue is full the
// connection is closed as a slow consumer.
func (c *conn) Send(frame []byte) error {
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
	c.signal()
	return nil
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
	for {
		_, data, err := c.ws.Read(c.ctx)
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
	c.mu.Unlock()
	c.cancel()
	<-writerDone
	c.ws.CloseNow()
	h.OnClose(c)
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
	var batch [][]byte
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
		c.mu.Lock()
		batch, c.queue = c.queue, batch[:0]
		closed, code, reason := c.closed, c.closeCode, c.closeReason
		c.mu.Unlock()
		if err := c.writeBatch(batch); err != nil {
			c.s.opts.Logger.Debug("websocket: write failed", "clientId", c.id, "err", err)
			c.ws.CloseNow()
			return
		}
		clear(batch)
		if closed && code != 0 {
			c.ws.Close(code, reason)
			return
		}
	}
}

// writeBatch writes frames back to back under one deadline.
func (c *conn) writeBatch(frames [][]byte) error {
	if len(frames) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.s.opts.WriteTimeout)
	defer cancel()
	for _, f := range frames {
		if err := c.ws.Write(ctx, websocket.MessageText, f); err != nil {
			return err
		}
	}
	return nil
}
