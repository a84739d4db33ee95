// Package client is the Go client of the Zocket protocol: it talks to any
// Zocket server, Go or TypeScript, with the guarantees of the TypeScript
// @zocket/client (docs/protocol.md), typed from the same descriptors the
// server registers.
//
//	c, err := client.Dial(ctx, "ws://127.0.0.1:3000", client.Options{})
//	room := c.Actor("chat", "general")
//	defer room.Release()
//	stop := client.OnState(room, func(s chatroom.State) { fmt.Println(len(s.Messages)) })
//	defer stop()
//	_, err = client.Call(ctx, room, chatroom.SendMessage, chatroom.Message{From: "Al", Text: "hi"})
//
// Reconnection: after an unexpected close the client reconnects with
// exponential backoff and jitter (250 ms doubling to 2 s, plus 0–99 ms),
// re-sends the subscriptions of live handles, and state subscribers get a
// fresh snapshot. RPCs that were in flight are rejected (never re-sent);
// RPCs issued while reconnecting wait up to their timeout.
//
// Resume (Go servers): a Go server sends state with a version and an
// epoch. A handle that has a versioned state resubscribes naming it, and
// the server sends only the patches it missed (or a snapshot when it
// cannot, or nothing when the handle is current); events missed while
// disconnected are not replayed. A versioned patch that does not follow
// the state (a gap, or another epoch) is never applied: the handle asks
// for the missing versions the same way. With a TypeScript server, which
// sends no versions, nothing changes.
//
// Deviation from TS: with reconnect disabled, a drop
// moves the status to Disconnected and new RPCs fail at once with
// "WebSocket is not connected" (TS stays "reconnecting").
//
// The client stops for good, without reconnecting, when reconnecting would
// fail the same way: the server refused the handshake with a client error
// such as 401 (a *HandshakeError), or a message exceeded the read limit
// (ErrMessageTooBig). The status becomes Disconnected, the cause is logged
// at error level and returned by Err, Ready and Dial fail with it at once,
// and calls fail with "WebSocket is not connected" wrapping it.
package client

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Status is the connection status.
type Status string

// Statuses: Connecting until the first open, Connected, Reconnecting after
// an unexpected close, Disconnected after Close.
const (
	Connecting   Status = "connecting"
	Connected    Status = "connected"
	Reconnecting Status = "reconnecting"
	Disconnected Status = "disconnected"
)

// Options configures a Client. The zero value gives the TS defaults.
type Options struct {
	// RPCTimeout is the total budget of one call, including any wait for a
	// socket (default 10 s; negative: none). A context deadline also
	// applies.
	RPCTimeout time.Duration
	// ConnectTimeout bounds the first connection for Ready and Dial
	// (default 10 s; negative: none), and each dial attempt.
	ConnectTimeout time.Duration
	// NoReconnect disables reconnecting after an unexpected close.
	NoReconnect bool
	// ReconnectDelay returns the wait before reconnect attempt n (1, 2, …);
	// nil is DefaultReconnectDelay. Tests use a fixed delay.
	ReconnectDelay func(attempt int) time.Duration
	// DisposeDelay is how long a handle whose last reference was released
	// lingers before it unsubscribes, so that releasing and re-acquiring at
	// once costs no traffic (default 10 ms; the TS client waits one event
	// loop turn).
	DisposeDelay time.Duration
	// Dial opens sockets; nil dials with github.com/coder/websocket
	// (CoderDialer(nil, 64 MiB)).
	Dial Dialer
	// Logger receives the client's logs (default: discard).
	Logger *slog.Logger
}

// DefaultReconnectDelay is min(250 ms · 2^(attempt−1), 2 s) plus 0–99 ms of
// jitter, attempt counting from 1.
func DefaultReconnectDelay(attempt int) time.Duration {
	base := 2000
	if attempt <= 4 {
		base = 250 << (attempt - 1)
	}
	return time.Duration(base+rand.IntN(100)) * time.Millisecond
}

func (o Options) withDefaults() Options {
	if o.RPCTimeout == 0 {
		o.RPCTimeout = 10 * time.Second
	}
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.ReconnectDelay == nil {
		o.ReconnectDelay = DefaultReconnectDelay
	}
	if o.DisposeDelay <= 0 {
		o.DisposeDelay = 10 * time.Millisecond
	}
	if o.Dial == nil {
		o.Dial = CoderDialer(nil, 64<<20)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Client is a connection to a Zocket server that survives reconnects. It
// is safe for use from many goroutines. Callbacks (status, events, state)
// run on the client's goroutine, one at a time; they may call the client
// but should return quickly.
type Client struct {
	url  string
	opts Options

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	done   chan struct{} // the connection goroutine exited

	writeMu sync.Mutex // one socket write at a time

	mu        sync.Mutex
	status    Status
	sock      Socket        // nil unless connected
	opened    chan struct{} // closed while a socket is open
	closed    bool
	clientID  string
	pending   map[string]*pendingCall
	handles   map[handleKey]*handleCore
	seq       int // handle creation order
	statusFns map[int]func(Status)
	statusSeq int
	ready     chan struct{} // closed when Ready settles
	readyErr  error
	stopErr   error // why the client stopped by itself; nil while it runs

	rpcSeq atomic.Uint64
}

// New returns a client that starts connecting to url in the background.
// Use Ready to wait for the first connection, or just call: RPCs wait for
// a socket up to their timeout.
func New(url string, opts Options) *Client {
	c := &Client{url: url, opts: opts.withDefaults(), status: Connecting,
		opened: make(chan struct{}), pending: map[string]*pendingCall{},
		handles: map[handleKey]*handleCore{}, statusFns: map[int]func(Status){},
		ready: make(chan struct{}), done: make(chan struct{})}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	go c.run()
	if d := c.opts.ConnectTimeout; d > 0 {
		t := time.AfterFunc(d, func() { c.settleReady(errConnectTimeout(d)) })
		go func() { <-c.ready; t.Stop() }()
	}
	return c
}

// Dial is New followed by Ready: it returns once connected, or closes the
// client and returns the error.
func Dial(ctx context.Context, url string, opts Options) (*Client, error) {
	c := New(url, opts)
	if err := c.Ready(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Ready waits for the first connection. It fails with "WebSocket did not
// connect within Nms" after ConnectTimeout (attempts continue), with
// "WebSocket client closed before becoming ready", with ctx's error, or at
// once with the cause when the client stops (see Err), e.g. a
// *HandshakeError for a 401.
func (c *Client) Ready(ctx context.Context) error {
	select {
	case <-c.ready:
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.readyErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) settleReady(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.ready:
	default:
		c.readyErr = err
		close(c.ready)
	}
}

// Err returns why the client stopped by itself: a *HandshakeError for a
// handshake the server refused with a client error, or an error wrapping
// ErrMessageTooBig. It is nil unless the client stopped by itself.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopErr
}

// Status returns the connection status.
func (c *Client) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// OnStatus registers fn for status changes (not the current status). The
// returned function unregisters it.
func (c *Client) OnStatus(fn func(Status)) (off func()) {
	c.mu.Lock()
	c.statusSeq++
	id := c.statusSeq
	c.statusFns[id] = fn
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		delete(c.statusFns, id)
		c.mu.Unlock()
	}
}

// setStatus changes the status and returns the listeners to call (outside
// c.mu). The caller holds c.mu.
func (c *Client) setStatusLocked(s Status) []func(Status) {
	if c.status == s {
		return nil
	}
	c.status = s
	fns := make([]func(Status), 0, len(c.statusFns))
	for id := 0; id <= c.statusSeq; id++ {
		if fn, ok := c.statusFns[id]; ok {
			fns = append(fns, fn)
		}
	}
	return fns
}

func notify(fns []func(Status), s Status) {
	for _, fn := range fns {
		fn(s)
	}
}

// ClientID returns the id from the server's latest welcome, "" before one
// arrives and after the socket drops.
func (c *Client) ClientID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.clientID
}

// Close closes the client for good: live handles
// unsubscribe, pending RPCs fail with "WebSocket client closed", the status
// becomes Disconnected and the socket is closed. Later calls fail with
// "WebSocket client is closed". Close waits for the client's goroutine.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		<-c.done
		return nil
	}
	c.closed = true
	c.cancel()
	handles := c.orderedHandlesLocked()
	c.mu.Unlock()
	for _, h := range handles {
		h.teardown()
	}
	c.mu.Lock()
	pending := c.pending
	c.pending = map[string]*pendingCall{}
	sock := c.sock
	c.sock = nil
	c.clientID = ""
	fns := c.setStatusLocked(Disconnected)
	c.mu.Unlock()
	for _, p := range pending {
		p.settle(nil, errClientClosed)
	}
	notify(fns, Disconnected)
	c.settleReady(errClosedBeforeReady)
	var err error
	if sock != nil {
		err = sock.Close()
	}
	<-c.done
	return err
}

// nextID returns a new rpc id: rpc_<n>_<base36 ms>.
func (c *Client) nextID() string {
	b := make([]byte, 0, 24)
	b = append(b, "rpc_"...)
	b = strconv.AppendUint(b, c.rpcSeq.Add(1), 10)
	b = append(b, '_')
	b = strconv.AppendInt(b, time.Now().UnixMilli(), 36)
	return string(b)
}
