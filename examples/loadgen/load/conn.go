package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/zocket-go/zocket/protocol"
)

// ErrRemote is wrapped by the error of a call that the server answered with
// an error result, or that the connection lost before its result came.
var ErrRemote = errors.New("load: rpc failed")

// ErrClosed is wrapped by the error of Dial when the server closes the
// connection before its welcome message.
var ErrClosed = errors.New("load: connection closed")

// LostMessage starts the error of the synthetic result that a call the
// connection lost receives; see Lost.
const LostMessage = "connection lost"

// Lost reports whether m is the synthetic result of a call that the
// connection lost before its result came.
func Lost(m *protocol.Message) bool {
	return m.HasError && strings.HasPrefix(m.Error, LostMessage+": ")
}

// DialTimeout bounds Dial: the handshake plus the wait for the welcome.
const DialTimeout = 30 * time.Second

// Handler receives every message of a connection other than rpc:result
// (the welcome included), on the connection's reader goroutine, with the
// frame's size in bytes and the time it was read.
type Handler func(m *protocol.Message, size int, at time.Time)

// Done receives the rpc:result of one call made with Conn.Go, on the
// connection's reader goroutine, with the times the call was sent and its
// result read. A call the connection lost gets a synthetic error result.
type Done func(m *protocol.Message, sent, recv time.Time)

// RPC addresses one method call. A nil Input sends no "input" member.
type RPC struct {
	Actor, ActorID, Method string
	Input                  json.RawMessage
}

// NewRPC returns an RPC whose input is in encoded as JSON (nil: no input).
func NewRPC(actor, actorID, method string, in any) RPC {
	r := RPC{Actor: actor, ActorID: actorID, Method: method}
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			panic(fmt.Sprintf("load: rpc input %T: %v", in, err))
		}
		r.Input = b
	}
	return r
}

// Reply is the outcome of Conn.Call.
type Reply struct {
	Msg        protocol.Message
	Sent, Recv time.Time
}

// Latency is the time from sending the call to reading its result.
func (r Reply) Latency() time.Duration { return r.Recv.Sub(r.Sent) }

type pendingCall struct {
	sent time.Time
	done Done
}

// Conn is one client connection speaking the Zocket wire protocol: JSON
// text frames, calls matched to their results by a numeric string id. A
// reader goroutine, started by Dial and ended by Close (or by the server),
// dispatches every frame.
type Conn struct {
	ws       *websocket.Conn
	write    func(ctx context.Context, typ websocket.MessageType, p []byte) error // ws.Write
	clientID string
	welcome  chan struct{}
	closed   chan struct{}
	readErr  error // set before closed is closed

	handler atomic.Pointer[Handler]

	mu      sync.Mutex
	pending map[uint64]pendingCall
	nextID  uint64

	// Unmatched counts results whose id matches no outstanding call;
	// Undecodable counts frames that are not protocol messages.
	Unmatched, Undecodable atomic.Int64
}

// one HTTP client for every dial: no idle connections kept for reuse.
var dialClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// Dial connects to url, starts the reader goroutine and waits for the
// welcome message. h (nil: none) receives the messages from the welcome on.
func Dial(ctx context.Context, url string, h Handler) (*Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, DialTimeout)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		CompressionMode: websocket.CompressionDisabled,
		HTTPClient:      dialClient,
	})
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", url, err)
	}
	ws.SetReadLimit(256 << 20)
	c := &Conn{ws: ws, write: ws.Write, welcome: make(chan struct{}), closed: make(chan struct{}),
		pending: make(map[uint64]pendingCall)}
	if h != nil {
		c.handler.Store(&h)
	}
	go c.read()
	select {
	case <-c.welcome:
		return c, nil
	case <-c.closed:
		return nil, fmt.Errorf("%w before welcome: %w", ErrClosed, c.readErr)
	case <-ctx.Done():
		c.Close()
		return nil, fmt.Errorf("waiting for welcome: %w", ctx.Err())
	}
}

// ClientID is the id the server's welcome gave this connection.
func (c *Conn) ClientID() string { return c.clientID }

// SetHandler replaces the handler of later messages.
func (c *Conn) SetHandler(h Handler) { c.handler.Store(&h) }

// Close drops the connection at once, without a closing handshake (to the
// server the client vanished), and fails the outstanding calls.
func (c *Conn) Close() { _ = c.ws.CloseNow() }

// CloseGracefully runs the WebSocket closing handshake.
func (c *Conn) CloseGracefully() error {
	return c.ws.Close(websocket.StatusNormalClosure, "")
}

// Done is closed when the reader goroutine has ended.
func (c *Conn) Done() <-chan struct{} { return c.closed }

// Err is the error that ended the reader goroutine; valid after Done.
func (c *Conn) Err() error { return c.readErr }

func (c *Conn) read() {
	defer close(c.closed)
	var buf bytes.Buffer
	for {
		_, r, err := c.ws.Reader(context.Background())
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		if err != nil {
			c.readErr = err
			c.failPending(err)
			return
		}
		at := time.Now()
		data := bytes.Clone(buf.Bytes())
		m, err := protocol.Parse(data)
		if err != nil {
			c.Undecodable.Add(1)
			continue
		}
		if m.Type == protocol.TypeRPCResult {
			c.complete(&m, at)
			continue
		}
		if m.Type == protocol.TypeWelcome && c.clientID == "" {
			c.clientID = m.ClientID
			close(c.welcome)
		}
		if h := c.handler.Load(); h != nil {
			(*h)(&m, len(data), at)
		}
	}
}

func (c *Conn) complete(m *protocol.Message, at time.Time) {
	id, ok := parseID(m.ID)
	c.mu.Lock()
	p, found := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if !ok || !found {
		c.Unmatched.Add(1)
		return
	}
	p.done(m, p.sent, at)
}

func (c *Conn) failPending(err error) {
	c.mu.Lock()
	lost := c.pending
	c.pending = nil // later calls fail at once
	c.mu.Unlock()
	m := protocol.Message{Type: protocol.TypeRPCResult, HasError: true, Error: LostMessage + ": " + err.Error()}
	now := time.Now()
	for _, p := range lost {
		p.done(&m, p.sent, now)
	}
}

func parseID(raw json.RawMessage) (uint64, bool) {
	if len(raw) >= 2 && raw[0] == '"' {
		raw = raw[1 : len(raw)-1]
	}
	v, err := strconv.ParseUint(string(raw), 10, 64)
	return v, err == nil
}

// Go sends a call; done runs on the reader goroutine when its result comes,
// or with a synthetic error result when the connection is lost first. done
// runs exactly once when Go returns nil, and never when it returns an
// error.
func (c *Conn) Go(r RPC, done Done) error {
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	c.mu.Unlock()
	var idBuf [24]byte
	rawID := strconv.AppendUint(append(idBuf[:0], '"'), id, 10)
	var b [256]byte
	frame := protocol.AppendRPC(b[:0], append(rawID, '"'), r.Actor, r.ActorID, r.Method, r.Input)
	c.mu.Lock()
	if c.pending == nil {
		c.mu.Unlock()
		return fmt.Errorf("send rpc: %w: %w", ErrClosed, c.readErr)
	}
	c.pending[id] = pendingCall{sent: time.Now(), done: done}
	c.mu.Unlock()
	if err := c.write(context.Background(), websocket.MessageText, frame); err != nil {
		c.mu.Lock()
		_, pending := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if !pending {
			return nil // the reader took the call first, for a result or to fail it: done runs
		}
		return fmt.Errorf("send rpc: %w", err)
	}
	return nil
}

// Call sends a call and waits for its result, or for ctx to end. A result
// with an error is returned with an error wrapping ErrRemote.
func (c *Conn) Call(ctx context.Context, r RPC) (Reply, error) {
	ch := make(chan Reply, 1)
	err := c.Go(r, func(m *protocol.Message, sent, recv time.Time) { ch <- Reply{*m, sent, recv} })
	if err != nil {
		return Reply{}, err
	}
	select {
	case rep := <-ch:
		if rep.Msg.HasError {
			return rep, fmt.Errorf("%w: %s.%s: %s", ErrRemote, r.Actor, r.Method, rep.Msg.Error)
		}
		return rep, nil
	case <-ctx.Done():
		return Reply{}, fmt.Errorf("%s.%s: %w", r.Actor, r.Method, ctx.Err())
	}
}

// CallTimeout is Call bounded by d.
func (c *Conn) CallTimeout(ctx context.Context, r RPC, d time.Duration) (Reply, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return c.Call(ctx, r)
}

// Send writes one raw text frame.
func (c *Conn) Send(frame []byte) error {
	if err := c.ws.Write(context.Background(), websocket.MessageText, frame); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return nil
}

// Subscribe sends a subscription message (state:sub, event:sub, or their
// unsub) for one instance.
func (c *Conn) Subscribe(typ protocol.Type, actor, actorID string) error {
	return c.Send(protocol.AppendSub(nil, typ, actor, actorID))
}
