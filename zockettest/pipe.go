package zockettest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/client"
)

// errClosed is what writing to a closed connection returns, either side.
var errClosed = errors.New("zockettest: connection closed")

// pipe is one in-memory connection: the server sees it as a
// zocket.Connection, the client through socket.
type pipe struct {
	srv      *Server
	id       string
	identity zocket.Identity

	mu     sync.Mutex
	queue  [][]byte           // frames sent by the server, not yet read
	wake   chan struct{}      // closed and replaced when queue or closed changes
	closed *client.CloseError // nil while open
}

func newPipe(srv *Server, id string, identity zocket.Identity) *pipe {
	return &pipe{srv: srv, id: id, identity: identity, wake: make(chan struct{})}
}

// ID returns the connection's client id.
func (p *pipe) ID() string { return p.id }

// Identity returns the identity the server's Identify gave.
func (p *pipe) Identity() zocket.Identity { return p.identity }

// Send queues a frame for the client; it never blocks.
func (p *pipe) Send(frame []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed != nil {
		return errClosed
	}
	p.queue = append(p.queue, append([]byte(nil), frame...))
	p.signalLocked()
	return nil
}

func (p *pipe) signalLocked() {
	close(p.wake)
	p.wake = make(chan struct{})
}

// close ends the connection once, with the close frame code and reason the
// client will read, and tells the server.
func (p *pipe) close(code int, reason string) {
	if p.end(code, reason) {
		p.srv.forget(p)
	}
}

// CloseWith closes the connection from the server's side (zocket.Closer:
// Handler.Disconnect, a closed App): the client reads what was sent, then
// the code and reason. The Handler may hold its locks here, so it learns
// of the close on another goroutine, as from a socket transport.
func (p *pipe) CloseWith(code int, reason string) {
	if p.end(code, reason) {
		go p.srv.forget(p)
	}
}

// end marks the connection closed, once; it reports whether it did.
func (p *pipe) end(code int, reason string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed != nil {
		return false
	}
	p.closed = &client.CloseError{Code: code, Reason: reason}
	p.signalLocked()
	return true
}

// socket is the client's end of a pipe.
type socket struct{ p *pipe }

// Read returns the next frame the server sent; after a close, a
// *client.CloseError once the frames sent before it were read.
func (s socket) Read() ([]byte, error) {
	p := s.p
	for {
		p.mu.Lock()
		if len(p.queue) > 0 {
			f := p.queue[0]
			p.queue = p.queue[1:]
			p.mu.Unlock()
			if limit := p.srv.opts.ReadLimit; limit > 0 && len(f) > limit {
				reason := fmt.Sprintf("read limited at %d bytes", limit)
				p.close(1009, reason)
				return nil, fmt.Errorf("%w: %s", client.ErrMessageTooBig, reason)
			}
			return f, nil
		}
		if p.closed != nil {
			err := p.closed
			p.mu.Unlock()
			return nil, err
		}
		wake := p.wake
		p.mu.Unlock()
		<-wake
	}
}

// Write hands a frame to the server, as if it had arrived on a socket.
func (s socket) Write(ctx context.Context, frame []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.p.mu.Lock()
	closed := s.p.closed != nil
	s.p.mu.Unlock()
	if closed {
		return errClosed
	}
	s.p.srv.h.OnMessage(s.p, append([]byte(nil), frame...))
	return nil
}

// Close closes the connection from the client's side (1000).
func (s socket) Close() error {
	s.p.close(1000, "")
	return nil
}
