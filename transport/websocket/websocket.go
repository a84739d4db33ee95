// Package websocket serves a zocket App over WebSockets from net/http, on
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
// behind by more than Options.SendQueue frames is closed with 1008 (policy
// violation) and the reason "slow consumer"; nothing else slows down and
// nothing is dropped silently. Pings detect dead peers, so a vanished
// client still gets its onDisconnect.
package websocket

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/handoff"
)

// Options configures a Server. The zero value is usable.
type Options struct {
	// OriginPatterns lists the host patterns (path.Match syntax) of
	// browser origins allowed besides the request's own host. Empty means
	// same-origin only. Requests without an Origin header (non-browser
	// clients) are always allowed.
	OriginPatterns []string
	// Authenticate, if set, runs before the upgrade; an error refuses it
	// with the error's status (a *zocket.HTTPError) or 401.
	Authenticate func(*http.Request) (zocket.Identity, error)
	// ReadLimit is the largest accepted message in bytes (default 1 MiB).
	// A larger one closes the connection with 1009 (message too big).
	ReadLimit int64
	// PingInterval is the time between pings (default 30s; negative
	// disables). A peer that does not answer within PingTimeout (default
	// 15s) is dropped.
	PingInterval time.Duration
	PingTimeout  time.Duration
	// SendQueue is the outbound queue bound in frames (default 1024).
	SendQueue int
	// WriteTimeout is how long a close the server asked for (slow
	// consumer, shutdown) may wait behind a peer that does not read before
	// the socket is dropped (default 10s). A peer that stops reading
	// altogether also stops answering pings and is dropped by them.
	WriteTimeout time.Duration
	// Compression is the permessage-deflate mode (default disabled).
	Compression websocket.CompressionMode
	// Logger receives connection-level logs (default: discard).
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.ReadLimit == 0 {
		o.ReadLimit = 1 << 20
	}
	if o.PingInterval == 0 {
		o.PingInterval = 30 * time.Second
	}
	if o.PingTimeout == 0 {
		o.PingTimeout = 15 * time.Second
	}
	if o.SendQueue <= 0 {
		o.SendQueue = 1024
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.Compression == 0 {
		o.Compression = websocket.CompressionDisabled
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Close reasons sent by the server.
const (
	ReasonSlowConsumer = "slow consumer: outbound queue full"
	ReasonShutdown     = "server shutting down"
)

// ErrSlowConsumer is returned by a connection's Send once its outbound
// queue overflowed; the connection is being closed.
var ErrSlowConsumer = errors.New("websocket: slow consumer")

// ErrClosed is returned by Send on a closed connection.
var ErrClosed = errors.New("websocket: connection closed")

// Server is an http.Handler that upgrades requests and serves them to a
// zocket.Handler.
type Server struct {
	h       *zocket.Handler
	opts    Options
	ids     zocket.ClientIDs
	scratch sync.Pool // *[]byte read buffers, borrowed while a message arrives
	watch   *handoff.Watchdog

	mu       sync.Mutex
	conns    map[*conn]struct{}
	shutdown bool
	wg       sync.WaitGroup
}

// New returns a Server for h.
func New(h *zocket.Handler, opts Options) *Server {
	return &Server{h: h, opts: opts.withDefaults(), conns: map[*conn]struct{}{}, watch: handoff.New()}
}

// ServeHTTP authenticates and upgrades the request, then serves the
// connection until it closes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var identity zocket.Identity
	if s.opts.Authenticate != nil {
		id, err := s.opts.Authenticate(r)
		if err != nil {
			status, msg := http.StatusUnauthorized, err.Error()
			var he *zocket.HTTPError
			if errors.As(err, &he) && he.Status != 0 {
				status = he.Status
			}
			http.Error(w, msg, status)
			return
		}
		identity = id
	}
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		http.Error(w, ReasonShutdown, http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1) // given back by the connection's finish, or below
	s.mu.Unlock()

	// Data frames bypass coder/websocket's writer unless compressed, so it
	// only needs room for control frames.
	cw := &corkingWriter{ResponseWriter: w, wbSize: 256}
	if s.opts.Compression != websocket.CompressionDisabled {
		cw.wbSize = 4096
	}
	ws, err := websocket.Accept(cw, r, &websocket.AcceptOptions{
		OriginPatterns:  s.opts.OriginPatterns,
		CompressionMode: s.opts.Compression,
	})
	if err != nil {
		s.opts.Logger.Info("websocket: upgrade failed", "remote", r.RemoteAddr, "err", err)
		s.wg.Done()
		return
	}
	if cw.conn == nil {
		s.opts.Logger.Error("websocket: upgrade did not hijack", "err", errNoHijack)
		ws.CloseNow()
		s.wg.Done()
		return
	}
	ws.SetReadLimit(s.opts.ReadLimit)
	c := newConn(s, ws, cw.conn, s.ids.Next(), identity)
	c.input = cw.br
	if !s.track(c) {
		ws.Close(websocket.StatusGoingAway, ReasonShutdown)
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

// Shutdown refuses new upgrades (503), closes every connection with 1001
// (going away) after its queued frames are written, and waits for them to
// finish or ctx to end, when the rest are dropped.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	for c := range s.conns {
		c.closeWith(websocket.StatusGoingAway, ReasonShutdown)
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

// ListenAndServe serves app on addr (e.g. "127.0.0.1:3000") until ctx ends,
// then shuts down gracefully: connections are closed with 1001 and the App
// is closed (onDeactivate runs), allowing 10 seconds.
func ListenAndServe(ctx context.Context, addr string, app *zocket.App, opts Options) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return Serve(ctx, ln, app, opts)
}

// Serve is ListenAndServe on an existing listener, which it closes.
func Serve(ctx context.Context, ln net.Listener, app *zocket.App, opts Options) error {
	return New(zocket.NewHandler(app), opts).Serve(ctx, ln, nil)
}

// Serve serves handler on ln until ctx ends; handler is typically a mux that
// mounts s beside the host's own routes (nil serves s alone). Then it shuts
// down gracefully, allowing 10 seconds: the HTTP server stops accepting,
// connections are closed with 1001, and the App is closed (onDeactivate
// runs).
func (s *Server) Serve(ctx context.Context, ln net.Listener, handler http.Handler) error {
	if handler == nil {
		handler = s
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := errors.Join(srv.Shutdown(sctx), s.Shutdown(sctx), s.h.App().Close(sctx))
	if e := <-errc; !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	return err
}
