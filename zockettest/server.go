package zockettest

import (
	"context"
	"strconv"
	"sync"
	"testing"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/client"
)

// URL is the address Server.Client gives the clients it creates. A Server
// answers any URL: the Identify option sees the one dialed.
const URL = "ws://zockettest"

// dialedIDPrefix starts the client ids Dial hands out, followed by a count.
const dialedIDPrefix = "zt-client-"

// Options configures a Server.
type Options struct {
	// Identify returns the identity of a client connecting to url, or an
	// error that refuses the connection (return a *client.HandshakeError
	// with StatusCode 401 to act like a server rejecting a token). Nil
	// gives every connection an empty identity.
	Identify func(url string) (zocket.Identity, error)
	// ReadLimit, when positive, is the largest frame a client socket
	// reads: a bigger one closes it with 1009 and the read fails with
	// client.ErrMessageTooBig, as with client.CoderDialer's limit.
	ReadLimit int
}

// Server is an App served in-process: client sockets are in-memory pipes
// to a zocket.Handler, which behave like WebSocket connections (frames in
// order, a close with a code and reason) without the network.
type Server struct {
	h    *zocket.Handler
	opts Options

	mu    sync.Mutex
	seq   int
	conns map[*pipe]struct{}
}

// NewServer returns a Server for app.
func NewServer(app *zocket.App, opts Options) *Server {
	return &Server{h: zocket.NewHandler(app), opts: opts, conns: map[*pipe]struct{}{}}
}

// Handler returns the Handler the server's connections talk to.
func (s *Server) Handler() *zocket.Handler { return s.h }

// Dial is a client.Dialer (for client.Options.Dial) that connects to the
// server in memory. Client connections get the ids "zt-client-1",
// "zt-client-2", … in dial order; the server sends welcome as a real one
// does.
func (s *Server) Dial(ctx context.Context, url string) (client.Socket, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var id zocket.Identity
	if s.opts.Identify != nil {
		var err error
		if id, err = s.opts.Identify(url); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	s.seq++
	p := newPipe(s, dialedIDPrefix+strconv.Itoa(s.seq), id)
	s.conns[p] = struct{}{}
	s.mu.Unlock()
	s.h.OnConnection(p)
	return socket{p}, nil
}

// Client returns a client of the server, connected (client.Dial with
// Options.Dial set to s.Dial), and closes it when t ends.
func (s *Server) Client(t testing.TB, opts client.Options) *client.Client {
	t.Helper()
	opts.Dial = s.Dial
	c, err := client.Dial(t.Context(), URL, opts)
	if err != nil {
		t.Fatalf("zockettest: client did not connect: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Drop closes every client connection from the server side with code 1001
// (going away) and reason, as a restarting server would: clients see the
// reason, fail their pending calls, and reconnect.
func (s *Server) Drop(reason string) {
	s.mu.Lock()
	conns := make([]*pipe, 0, len(s.conns))
	for p := range s.conns {
		conns = append(conns, p)
	}
	s.mu.Unlock()
	for _, p := range conns {
		p.close(1001, reason)
	}
}

// Len returns the number of open client connections.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// forget runs once per connection, when it closes.
func (s *Server) forget(p *pipe) {
	s.mu.Lock()
	delete(s.conns, p)
	s.mu.Unlock()
	s.h.OnClose(p)
}
