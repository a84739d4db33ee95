// Package gobwas serves a zocket App over WebSockets built on
// github.com/gobwas/ws, holding idle connections cheaply: an idle
// connection has no goroutine and no buffer, only its socket and a few
// hundred bytes of bookkeeping.
//
// The contract is that of transport/websocket: allowed origins, an
// authentication hook, a read limit (1009 beyond it), pings that drop dead
// peers, a bounded outbound queue that closes a slow consumer with 1008,
// and a graceful shutdown (1001). A Server plugs into the same
// zocket.Handler and passes the same conformance suite.
//
// # How it works
//
// gobwas/ws performs the handshake, from an http.Handler (ServeHTTP hijacks
// the connection after the upgrade) or straight from a net.Listener (Serve,
// without net/http). Afterwards the socket belongs to this package:
//
//   - On Linux the connection's descriptor is duplicated and the net.Conn
//     closed (its runtime poll descriptor and addresses cost ≈ 500 bytes),
//     and the descriptor joins one edge-triggered epoll instance per Server
//     (golang.org/x/sys/unix), registered once for input and for room to
//     write. The epoll instance is itself watched by the Go runtime's
//     poller, so one ordinary goroutine collects its events.
//   - Reading is readiness-driven: an event hands the connection to a
//     worker (a small pool of goroutines that exit after a second without
//     work), which reads what is there without blocking into a pooled
//     buffer, parses frames incrementally, hands messages to the Handler
//     (running calls to idle instances itself, see zocket.Handler.Dispatch,
//     with the same 500 µs hand-off as transport/websocket), writes the
//     answers and returns. The buffer goes back to the pool unless a frame
//     is half read; a frame not complete within Options.ReadTimeout drops
//     the connection, so a peer trickling bytes holds nothing for long.
//   - Writing happens on the goroutine that has something to say: frames
//     are queued and written with one non-blocking system call per batch
//     (control frames first, then data frames, gathered into a pooled
//     buffer). What the socket does not take waits, with its buffer, for
//     the epoll event that reports room; no goroutine waits for it.
//   - One sweeper goroutine per Server sends pings (every PingInterval of
//     silence), drops peers that do not answer within PingTimeout, and
//     drops connections whose frame is overdue.
//
// Elsewhere, and with Options.GoroutinePerConn, each connection keeps its
// net.Conn and a goroutine parked in the runtime's poller (a goroutine
// stack more per connection); reading, parsing and writing are the same
// code. The package builds on Unix only.
//
// An idle, subscribed connection costs ≈ 1.5 KB of server memory with epoll
// (BENCHMARKS.md): the descriptor's slot, this package's connection record,
// the Handler's session and the instance's subscriber entry.
//
// Client frames must be masked (1002 otherwise), as RFC 6455 requires.
// Fragmented messages are reassembled; ping is answered with pong; a close
// frame is answered with a close frame echoing its status code. Binary
// messages are handled like text ones. Compression (permessage-deflate) is
// not offered: clients negotiate without it.
package gobwas

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

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
	// with the error's status (a *zocket.HTTPError) or 401. On a raw
	// listener (Serve) the request carries the method, URL, Host and
	// headers, and no body.
	Authenticate func(*http.Request) (zocket.Identity, error)
	// ReadLimit is the largest accepted message in bytes (default 1 MiB).
	// A larger one closes the connection with 1009 (message too big).
	ReadLimit int64
	// ReadTimeout bounds how long a frame may take to arrive once its
	// first byte has (default 10s); an overdue connection is dropped.
	ReadTimeout time.Duration
	// PingInterval is the silence after which a ping is sent (default
	// 30s; negative disables pings). A peer that sends nothing within
	// PingTimeout (default 15s) of a ping is dropped.
	PingInterval time.Duration
	PingTimeout  time.Duration
	// SendQueue is the outbound queue bound in frames (default 1024).
	SendQueue int
	// WriteTimeout is how long a close the server asked for (slow
	// consumer, shutdown, protocol error) may wait for the peer, behind
	// queued output and for the peer's close frame, before the socket is
	// dropped (default 10s).
	WriteTimeout time.Duration
	// HandshakeTimeout bounds the upgrade request on a raw listener
	// (default 10s).
	HandshakeTimeout time.Duration
	// GoroutinePerConn reads each connection on a goroutine of its own
	// instead of through epoll: the fallback used where epoll does not
	// exist, selectable for comparison.
	GoroutinePerConn bool
	// Logger receives connection-level logs (default: discard).
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.ReadLimit <= 0 {
		o.ReadLimit = 1 << 20
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = 10 * time.Second
	}
	if o.PingInterval == 0 {
		o.PingInterval = 30 * time.Second
	}
	if o.PingTimeout <= 0 {
		o.PingTimeout = 15 * time.Second
	}
	if o.SendQueue <= 0 {
		o.SendQueue = 1024
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = 10 * time.Second
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

// Errors returned by a connection's Send.
var (
	// ErrSlowConsumer: the outbound queue overflowed; the connection is
	// being closed.
	ErrSlowConsumer = errors.New("gobwas: slow consumer")
	// ErrClosed: the connection is closed or closing.
	ErrClosed = errors.New("gobwas: connection closed")
)

// Server serves WebSocket connections to a zocket.Handler. It is an
// http.Handler, and serves raw listeners with Serve.
type Server struct {
	h     *zocket.Handler
	opts  Options
	ids   zocket.ClientIDs
	watch *handoff.Watchdog
	epoch time.Time

	mu       sync.Mutex
	conns    table
	shutdown bool
	poll     poller   // started with the first connection; never changes after
	sweep    *sweeper // started with the first connection; nil once stopped
	wg       sync.WaitGroup

	readBuffers atomic.Int64 // read buffers lent to connections
	writers     atomic.Int64 // goroutines writing a connection's backlog
}

// New returns a Server for h.
func New(h *zocket.Handler, opts Options) *Server {
	return &Server{h: h, opts: opts.withDefaults(), watch: handoff.New(), epoch: time.Now()}
}

// now is monotonic nanoseconds since the Server was made, never 0.
func (s *Server) now() int64 { return int64(time.Since(s.epoch)) + 1 }

// Stats is a moment's view of a Server's resources.
type Stats struct {
	Conns       int // open connections
	ReadBuffers int // connections holding a read buffer (a frame in progress or being read)
	Writers     int // connections waiting for room in the socket for output
}

// Stats returns the current resource counts.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	n := s.conns.n
	s.mu.Unlock()
	return Stats{Conns: n, ReadBuffers: int(s.readBuffers.Load()), Writers: int(s.writers.Load())}
}

// ServeHTTP authenticates the request, checks its origin, upgrades it and
// hijacks the connection; it returns at once, the connection is served
// without this goroutine.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	identity, status, err := s.admit(r)
	if err != nil {
		http.Error(w, err.Error(), status)
		return
	}
	if s.closing() {
		http.Error(w, ReasonShutdown, http.StatusServiceUnavailable)
		return
	}
	nc, brw, _, err := ws.HTTPUpgrader{Timeout: s.opts.HandshakeTimeout}.Upgrade(r, w)
	if err != nil {
		s.opts.Logger.Info("gobwas: upgrade failed", "remote", r.RemoteAddr, "err", err)
		if nc != nil {
			nc.Close()
		}
		return
	}
	var early []byte // bytes the client sent right after its request
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		early = append([]byte(nil), b...)
	}
	s.start(nc, identity, early)
}

// admit runs the origin check and Authenticate.
func (s *Server) admit(r *http.Request) (zocket.Identity, int, error) {
	if err := checkOrigin(r, s.opts.OriginPatterns); err != nil {
		return zocket.Identity{}, http.StatusForbidden, err
	}
	var identity zocket.Identity
	if s.opts.Authenticate != nil {
		id, err := s.opts.Authenticate(r)
		if err != nil {
			status := http.StatusUnauthorized
			var he *zocket.HTTPError
			if errors.As(err, &he) && he.Status != 0 {
				status = he.Status
			}
			return identity, status, err
		}
		identity = id
	}
	return identity, 0, nil
}

// checkOrigin allows requests without Origin, from the request's own host,
// or from a host matching one of patterns (as coder/websocket does).
func checkOrigin(r *http.Request, patterns []string) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil {
		return fmt.Errorf("failed to parse Origin header %q: %w", origin, err)
	}
	if strings.EqualFold(r.Host, u.Host) {
		return nil
	}
	for _, p := range patterns {
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(u.Host)); ok {
			return nil
		}
	}
	return fmt.Errorf("request Origin %q is not authorized for Host %q", origin, r.Host)
}

// start serves an upgraded connection: welcome, then reading.
func (s *Server) start(nc net.Conn, identity zocket.Identity, early []byte) {
	p, ok := s.poller()
	if !ok {
		nc.Close() // shutting down
		return
	}
	sock, err := p.adopt(nc)
	if err != nil {
		s.opts.Logger.Error("gobwas: unusable connection", "err", err)
		nc.Close()
		return
	}
	c := newConn(s, sock, s.ids.Next(), identity)
	if !s.track(c) {
		sock.close() // shutting down
		return
	}
	s.h.OnConnection(c)
	c.seed(early)
	if err := s.poll.add(c); err != nil {
		s.opts.Logger.Error("gobwas: cannot watch connection", "clientId", c.id, "err", err)
		c.drop()
		return
	}
	if len(early) > 0 {
		c.readReady() // the poller only sees bytes still in the socket
	}
}

// poller returns the Server's poller, starting it and the sweeper with
// the first connection; it fails once Shutdown has begun.
func (s *Server) poller() (poller, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown {
		return nil, false
	}
	if s.poll == nil {
		p, err := newPoller(s.opts.GoroutinePerConn, s.opts.Logger, s.lookup)
		if err != nil {
			s.opts.Logger.Error("gobwas: epoll unavailable, reading with a goroutine per connection", "err", err)
			p = goroutinePoller{}
		}
		s.poll = p
		s.sweep = newSweeper(s)
	}
	return s.poll, true
}

// track registers c; it fails once Shutdown has begun.
func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown {
		return false
	}
	s.wg.Add(1) // given back by drop
	s.conns.add(c)
	return true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	s.conns.remove(c)
	s.mu.Unlock()
}

// lookup returns the connection in slot, for the poller.
func (s *Server) lookup(slot int32) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns.get(slot)
}

// all returns the open connections.
func (s *Server) all() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	conns := make([]*conn, 0, s.conns.n)
	s.conns.each(func(c *conn) { conns = append(conns, c) })
	return conns
}

// closing reports whether Shutdown has begun.
func (s *Server) closing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shutdown
}

// Len returns the number of open connections.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns.n
}

// Shutdown refuses new connections (503, or a dropped socket on a raw
// listener), closes every connection with 1001 (going away) after its
// queued frames, and waits for them to finish or for ctx to end, when the
// rest are dropped. Then it stops the Server's goroutines. Calling it
// again waits for the connections again and does nothing else.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	s.mu.Unlock()
	for _, c := range s.all() {
		c.closeWith(ws.StatusGoingAway, ReasonShutdown)
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		for _, c := range s.all() {
			c.drop()
		}
		<-done
		err = ctx.Err()
	}
	s.mu.Lock()
	p, sw := s.poll, s.sweep
	s.sweep = nil // stops once; s.poll stays for late callers, closed
	s.mu.Unlock()
	if sw != nil {
		sw.close()
		p.close()
	}
	s.watch.Close()
	return err
}
