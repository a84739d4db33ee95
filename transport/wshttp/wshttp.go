// Package wshttp serves a zocket App over WebSockets from net/http, on
// github.com/coder/websocket.
//
// A Server is an http.Handler: mount it on any mux beside your own routes
// (it upgrades any path it is given), or run ListenAndServe. Each connection
// has a reader goroutine and a writer goroutine behind a bounded outbound
// queue. coder/websocket does the handshake, the reading and the control
// frames; data frames are written straight to the socket, corked so that a
// batch leaves in one system call. The reader runs calls to idle instances
// itself (zocket.Handler.Dispatch) and writes their answers before it next
// waits for input; a per-server watchdog moves reading to a new goroutine
// when such a call runs longer than 500 µs. Frames for other subscribers
// are written with one non-blocking system call where the socket has room
// (TryFlush); the writer goroutine takes the rest. A client that falls
// behind by more than Options.SendQueue frames or Options.SendQueueBytes
// bytes is closed with 1008 (policy violation) and the reason "slow
// consumer"; nothing else slows down and nothing is dropped silently.
// State frames are refused instead from half of those bounds on
// (zocket.StateQueuer), so that the App resynchronises a slow subscriber
// rather than lose it. Pings detect dead peers, so a vanished
// client still gets its onDisconnect.
package wshttp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/handoff"
	"github.com/zocket-go/zocket/internal/wscork"
	"github.com/zocket-go/zocket/transport/wscore"
)

// Options configures a Server. The zero value is usable; a zero field
// means its default. The fields shared by every WebSocket transport mean
// what wscore.Options documents; a negative value is an error from New
// (PingInterval excepted: negative disables pings).
type Options struct {
	OriginPatterns []string                                     // see wscore.Options
	Authenticate   func(*http.Request) (zocket.Identity, error) // see wscore.Options
	ReadLimit      int64                                        // see wscore.Options (default 1 MiB)
	PingInterval   time.Duration                                // see wscore.Options (default 30s)
	PingTimeout    time.Duration                                // see wscore.Options (default 15s)
	SendQueue      int                                          // see wscore.Options (default 1024)
	SendQueueBytes int                                          // see wscore.Options (default 16 MiB)
	WriteTimeout   time.Duration                                // see wscore.Options (default 10s)
	Logger         *slog.Logger                                 // see wscore.Options (default: discard)
	OnSlowConsumer func(clientID string)                        // see wscore.Options
	// Compression is the permessage-deflate mode (default disabled).
	Compression websocket.CompressionMode
}

// common returns the fields every WebSocket transport shares.
func (o Options) common() wscore.Options {
	return wscore.Options{
		OriginPatterns: o.OriginPatterns, Authenticate: o.Authenticate, ReadLimit: o.ReadLimit,
		PingInterval: o.PingInterval, PingTimeout: o.PingTimeout, SendQueue: o.SendQueue,
		SendQueueBytes: o.SendQueueBytes, WriteTimeout: o.WriteTimeout, Logger: o.Logger, OnSlowConsumer: o.OnSlowConsumer,
	}
}

// validate reports invalid fields, each error wrapping
// wscore.ErrInvalidOptions.
func (o Options) validate() error {
	var mode error
	switch o.Compression {
	case websocket.CompressionDisabled, websocket.CompressionContextTakeover, websocket.CompressionNoContextTakeover:
	default:
		mode = fmt.Errorf("%w: Compression %d is not a websocket.CompressionMode", wscore.ErrInvalidOptions, o.Compression)
	}
	return errors.Join(o.common().Validate(), mode)
}

// Server is an http.Handler that upgrades requests and serves them to a
// zocket.Handler.
type Server struct {
	h           *zocket.Handler
	opts        wscore.Options // with defaults
	compression websocket.CompressionMode
	ids         wscore.ClientIDs
	scratch     sync.Pool // *[]byte read buffers, borrowed while a message arrives
	watch       *handoff.Watchdog

	mu       sync.Mutex
	conns    map[*conn]struct{}
	shutdown bool
	wg       sync.WaitGroup
}

// New returns a Server for h, or an error wrapping
// wscore.ErrInvalidOptions for invalid options.
func New(h *zocket.Handler, opts Options) (*Server, error) {
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("wshttp: %w", err)
	}
	return &Server{
		h: h, opts: opts.common().WithDefaults(), compression: opts.Compression,
		conns: map[*conn]struct{}{}, watch: handoff.New(),
	}, nil
}

// ServeHTTP checks the request's origin, authenticates and upgrades it,
// then serves the connection until it closes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	identity, status, err := s.opts.Admit(r)
	if err != nil {
		http.Error(w, err.Error(), status)
		return
	}
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		http.Error(w, wscore.ReasonShutdown, http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1) // given back by the connection's finish, or below
	s.mu.Unlock()

	// Data frames bypass coder/websocket's writer unless compressed, so it
	// only needs room for control frames.
	cw := &wscork.Writer{ResponseWriter: w, WriteBufferSize: 256}
	if s.compression != websocket.CompressionDisabled {
		cw.WriteBufferSize = 4096
	}
	ws, err := websocket.Accept(cw, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true, // Admit checked the origin
		CompressionMode:    s.compression,
	})
	if err != nil {
		s.opts.Logger.Info("wshttp: upgrade failed", "remote", r.RemoteAddr, "err", err)
		s.wg.Done()
		return
	}
	if cw.Conn == nil {
		s.opts.Logger.Error("wshttp: upgrade did not hijack", "err", wscork.ErrNotHijacked)
		ws.CloseNow()
		s.wg.Done()
		return
	}
	ws.SetReadLimit(s.opts.ReadLimit)
	c := newConn(s, ws, cw.Conn, s.ids.Next(), identity)
	c.input = cw.Reader
	if !s.track(c) {
		ws.Close(websocket.StatusGoingAway, wscore.ReasonShutdown)
		s.wg.Done()
		return
	}
	c.serve()
}

func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// Len returns the number of open connections.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Queues returns the outbound queues of the open connections in
// aggregate: their number, the frames and bytes queued and not yet
// written, and the largest queue. It takes each connection's lock briefly,
// one at a time, so it is cheap enough for every metrics collection, and
// the figures of different connections are from slightly different
// moments.
func (s *Server) Queues() wscore.QueueStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	var q wscore.QueueStats
	for c := range s.conns {
		c.mu.Lock()
		q.Add(c.backlog.Len())
		c.mu.Unlock()
	}
	return q
}

// Shutdown refuses new upgrades (503), closes every connection with 1001
// (going away) after its queued frames are written, and waits for them to
// finish or ctx to end, when the rest are dropped.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	for c := range s.conns {
		c.closeWith(websocket.StatusGoingAway, wscore.ReasonShutdown)
	}
	s.mu.Unlock()
	defer s.watch.Close()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.ws.CloseNow()
		}
		s.mu.Unlock()
		<-done
		return ctx.Err()
	}
}

// ListenAndServe serves app on addr (e.g. "127.0.0.1:3000") until ctx
// ends, as Serve does.
func ListenAndServe(ctx context.Context, addr string, app *zocket.App, opts Options) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return Serve(ctx, ln, app, opts)
}

// Serve serves app on ln, which it closes, until ctx ends: see
// Server.Serve. It does not close app, which belongs to the caller: close
// it afterwards to run onDeactivate.
func Serve(ctx context.Context, ln net.Listener, app *zocket.App, opts Options) error {
	s, err := New(zocket.NewHandler(app), opts)
	if err != nil {
		ln.Close()
		return err
	}
	return s.Serve(ctx, ln, nil)
}

// Serve serves handler over HTTP on ln until ctx ends or ln fails;
// handler is typically a mux that mounts s beside the host's own routes
// (nil serves s alone). Either way it then shuts down gracefully, allowing
// wscore.ShutdownTimeout: the HTTP server stops accepting and s.Shutdown
// closes the connections with 1001. After a stop asked for by ctx it
// returns the shutdown's error (nil when it went well), otherwise the
// listener's error joined with it. The App is not closed: it belongs
// to the caller and may be served by other servers too.
func (s *Server) Serve(ctx context.Context, ln net.Listener, handler http.Handler) error {
	if handler == nil {
		handler = s
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	return wscore.Serve(ctx,
		func() error { return srv.Serve(ln) },
		func(ctx context.Context) error { return errors.Join(srv.Shutdown(ctx), s.Shutdown(ctx)) })
}
