package zocket

import (
	"context"
	"errors"
	"sync"
)

// ErrConnClosed is returned by LocalConn.Send after Close.
var ErrConnClosed = errors.New("zocket: connection closed")

// LocalConn is an in-memory Connection for driving actors from tests without
// sockets: it records every frame the server sends, in order, exactly as a
// socket would carry them.
//
//	h := zocket.NewHandler(app)
//	c := zocket.NewLocalConn("c1", zocket.Identity{})
//	h.OnConnection(c)
//	h.OnMessage(c, []byte(`{"type":"rpc","id":"1","actor":"chat","actorId":"r","method":"getMessages"}`))
//	frame, err := c.Next(ctx) // welcome, then the rpc:result
type LocalConn struct {
	id       string
	identity Identity

	mu     sync.Mutex
	frames [][]byte
	read   int
	closed bool
	code   int           // CloseWith's code, 0 when not closed by the server
	reason string        // CloseWith's reason
	signal chan struct{} // closed and replaced when a frame arrives
}

// NewLocalConn returns an open LocalConn with the given id and identity.
func NewLocalConn(id string, identity Identity) *LocalConn {
	return &LocalConn{id: id, identity: identity, signal: make(chan struct{})}
}

// ID returns the connection's client id.
func (c *LocalConn) ID() string { return c.id }

// Identity returns the identity given to NewLocalConn.
func (c *LocalConn) Identity() Identity { return c.identity }

// Send records a copy of frame; it fails after Close.
func (c *LocalConn) Send(frame []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrConnClosed
	}
	c.frames = append(c.frames, append([]byte(nil), frame...))
	close(c.signal)
	c.signal = make(chan struct{})
	return nil
}

// Close makes later sends fail. It does not call Handler.OnClose.
func (c *LocalConn) Close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
}

// CloseWith closes the connection as a server would (zocket.Closer):
// later sends fail, and CloseReason reports code and reason. Like Close, it
// does not call Handler.OnClose.
func (c *LocalConn) CloseWith(code int, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.closed, c.code, c.reason = true, code, reason
	close(c.signal)
	c.signal = make(chan struct{})
}

// CloseReason returns the code and reason of the server's CloseWith, and
// 0, "" when the server has not closed the connection.
func (c *LocalConn) CloseReason() (code int, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.code, c.reason
}

// Next returns the next frame not yet returned by Next, waiting for it
// until ctx ends.
func (c *LocalConn) Next(ctx context.Context) ([]byte, error) {
	for {
		c.mu.Lock()
		if c.read < len(c.frames) {
			f := c.frames[c.read]
			c.read++
			c.mu.Unlock()
			return f, nil
		}
		wait := c.signal
		c.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Frames returns every frame received so far.
func (c *LocalConn) Frames() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.frames...)
}
