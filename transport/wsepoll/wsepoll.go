// Package wsepoll serves a zocket App over WebSockets built on
// github.com/gobwas/ws, holding idle connections cheaply: an idle
// connection has no goroutine and no buffer, only its socket and a few
// hundred bytes of bookkeeping.
//
// The contract is that of transport/wshttp: allowed origins, an
// authentication hook, a read limit (1009 beyond it), pings that drop dead
// peers, an outbound queue bounded in frames and in bytes that closes a
// slow consumer with 1008 and refuses state frames from its high-water
// mark on (zocket.StateQueuer), and a graceful shutdown (1001). A Server plugs into the same
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
//     with the same 500 µs hand-off as transport/wshttp), writes the
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
package wsepoll

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/handoff"
	"github.com/zocket-go/zocket/transport/wscore"
)

// Options configures a Server. The zero value is usable; a zero field
// means its default. The fields shared by every WebSocket transport mean
// what wscore.Options documents; a negative value is an error from New
// (PingInterval excepted: negative disables pings).
type Options struct {
	OriginPatterns []string // see wscore.Options
	// Authenticate: see wscore.Options. On a raw listener (Serve) the
	// request carries the method, URL, Host and headers, and no body.
	Authenticate func(*http.Request) (zocket.Identity, error)
	ReadLimit    int64         // see wscore.Options (default 1 MiB)
	PingInterval time.Duration // see wscore.Options (default 30s); counted from the peer's last frame
	PingTimeout  time.Duration // see wscore.Options (default 15s)
	SendQueue    int           // see wscore.Options (default 1024)
	// SendQueueBytes: see wscore.Options (default 16 MiB).
	SendQueueBytes int
	// WriteTimeout: see wscore.Options; it also bounds the wait for the
	// peer's close frame (default 10s).
	WriteTimeout time.Duration
	Logger       *slog.Logger // see wscore.Options (default: discard)
	// OnSlowConsumer: see wscore.Options.
	OnSlowConsumer func(clientID string)
	// ReadTimeout bounds how long a frame may take to arrive once its
	// first byte has (default 10s); an overdue connection is dropped.
	ReadTimeout time.Duration
	// HandshakeTimeout bounds the upgrade request on a raw listener
	// (default 10s).
	HandshakeTimeout time.Duration
	// GoroutinePerConn reads each connection on a goroutine of its own
	// instead of through epoll: the fallback used where epoll does not
	// exist, selectable for comparison.
	GoroutinePerConn bool
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
	return errors.Join(o.common().Validate(),
		wscore.NotNegative("ReadTimeout", o.ReadTimeout),
		wscore.NotNegative("HandshakeTimeout", o.HandshakeTimeout))
}

// settings are a Server's options with their defaults.
type settings struct {
	wscore.Options
	readTimeout      time.Duration
	handshakeTimeout time.Duration
	goroutinePerConn bool
}

func (o Options) settings() settings {
	return settings{
		Options:          o.common().WithDefaults(),
		readTimeout:      wscore.Default(o.ReadTimeout, 10*time.Second),
		handshakeTimeout: wscore.Default(o.HandshakeTimeout, 10*time.Second),
		goroutinePerConn: o.GoroutinePerConn,
	}
}

// Server serves WebSocket connections to a zocket.Handler. It is an
// http.Handler, and serves raw listeners with Serve.
type Server struct {
	h     *zocket.Handler
	opts  settings
	ids   wscore.ClientIDs
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

// New returns a Server for h, or an error wrapping
// wscore.ErrInvalidOptions for invalid options.
func New(h *zocket.Handler, opts Options) (*Server, error) {
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("wsepoll: %w", err)
	}
	return &Server{h: h, opts: opts.settings(), watch: handoff.New(), epoch: time.Now()}, nil
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

// ServeHTTP checks the request's origin, authenticates it, upgrades it and
// hijacks the connection; it returns at once, the connection is served
// without this goroutine.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	identity, status, err := s.opts.Admit(r)
	if err != nil {
		http.Error(w, err.Error(), status)
		return
	}
	if s.closing() {
		http.Error(w, wscore.ReasonShutdown, http.StatusServiceUnavailable)
		return
	}
	nc, brw, _, err := ws.HTTPUpgrader{Timeout: s.opts.handshakeTimeout}.Upgrade(r, w)
	if err != nil {
		s.opts.Logger.Info("wsepoll: upgrade failed", "remote", r.RemoteAddr, "err", err)
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

// start serves an upgraded connection: welcome, then reading.
func (s *Server) start(nc net.Conn, identity zocket.Identity, early []byte) {
	p, ok := s.poller()
	if !ok {
		nc.Close() // shutting down
		return
	}
	sock, err := p.adopt(nc)
	if err != nil {
		s.opts.Logger.Error("wsepoll: unusable connection", "err", err)
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
		s.opts.Logger.Error("wsepoll: cannot watch connection", "clientId", c.id, "err", err)
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
		p, err := newPoller(s.opts.goroutinePerConn, s.opts.Logger, s.lookup)
		if err != nil {
			s.opts.Logger.Error("wsepoll: epoll unavailable, reading with a goroutine per connection", "err", err)
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
	s.conns.each(func(c *conn) {
		c.mu.Lock()
		q.Add(c.backlog.Len())
		c.mu.Unlock()
	})
	return q
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
		c.closeWith(ws.StatusGoingAway, wscore.ReasonShutdown)
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
