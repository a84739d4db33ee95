// Package wstest is a raw test client for the zocket protocol: it sends
// JSON text frames and records every frame it receives, in order. It speaks
// WebSockets (Dial) or any framing given as a client.Socket (NewClient).
package wstest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/zocket-go/zocket/client"
)

// Frame is one received frame, decoded generically (numbers as float64).
type Frame map[string]any

// Type returns the frame's type member.
func (f Frame) Type() string { s, _ := f["type"].(string); return s }

// Client is a raw protocol client.
type Client struct {
	t      testing.TB
	sock   client.Socket
	ws     *websocket.Conn // nil unless dialed with WebSockets
	frames chan Frame
	raw    chan []byte
	closed chan struct{}
	err    error
	// ClientID is the id from the welcome frame, once ReadWelcome read it.
	ClientID string
	ids      atomic.Int64
	once     sync.Once
}

// Quiet is how long Nothing waits for silence.
const Quiet = 200 * time.Millisecond

// Patience is how long a test waits for something that must happen before
// it fails: far beyond any delay of a loaded machine, so that only a hang
// fails a test, never slowness.
const Patience = time.Minute

// Dial connects to url with WebSockets and starts recording frames. The
// connection is closed when the test ends.
func Dial(t testing.TB, url string) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Patience)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	ws.SetReadLimit(64 << 20)
	c := NewClient(t, wsSocket{ws})
	c.ws = ws
	return c
}

// NewClient starts recording the frames sock reads, each one JSON
// message. sock is closed when the test ends.
func NewClient(t testing.TB, sock client.Socket) *Client {
	c := &Client{t: t, sock: sock, frames: make(chan Frame, 100000), raw: make(chan []byte, 100000), closed: make(chan struct{})}
	go c.readLoop()
	t.Cleanup(c.Close)
	return c
}

// DialWelcome dials and consumes the welcome frame, recording ClientID.
func DialWelcome(t testing.TB, url string) *Client {
	t.Helper()
	c := Dial(t, url)
	c.ReadWelcome()
	return c
}

// ReadWelcome reads the next frame, which must be welcome, and records
// its client id in ClientID.
func (c *Client) ReadWelcome() {
	c.t.Helper()
	f := c.Next()
	if f.Type() != "welcome" {
		c.t.Fatalf("first frame is %v, want welcome", f)
	}
	c.ClientID, _ = f["clientId"].(string)
}

func (c *Client) readLoop() {
	defer close(c.closed)
	for {
		data, err := c.sock.Read()
		if err != nil {
			c.err = err
			return
		}
		var f Frame
		if err := json.Unmarshal(data, &f); err != nil {
			f = Frame{"type": "!invalid", "raw": string(data)}
		}
		c.raw <- data
		c.frames <- f
	}
}

// Conn returns the WebSocket connection, or nil when the client was not
// made by Dial.
func (c *Client) Conn() *websocket.Conn { return c.ws }

// Close closes the connection normally.
func (c *Client) Close() {
	c.once.Do(func() { c.sock.Close() })
}

// Closed is closed when the read loop ended; Err then says why.
func (c *Client) Closed() <-chan struct{} { return c.closed }

// Err is the read loop's final error.
func (c *Client) Err() error { <-c.closed; return c.err }

// SendRaw sends a text frame as is.
func (c *Client) SendRaw(s string) {
	c.t.Helper()
	c.write([]byte(s))
}

// Send encodes v as JSON and sends it.
func (c *Client) Send(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	c.write(b)
}

func (c *Client) write(b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Patience)
	defer cancel()
	if err := c.sock.Write(ctx, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// Next returns the next frame, failing the test after Patience.
func (c *Client) Next() Frame {
	c.t.Helper()
	return c.NextWithin(Patience)
}

// NextWithin returns the next frame, failing the test after d.
func (c *Client) NextWithin(d time.Duration) Frame {
	c.t.Helper()
	timeout := time.After(d)
	closed := c.closed
	for {
		select {
		case f := <-c.frames:
			<-c.raw
			return f
		case <-closed:
			closed = nil // frames received before the end may still wait
			if len(c.frames) == 0 {
				c.t.Fatalf("connection ended before the next frame: %v", c.err)
			}
		case <-timeout:
			c.t.Fatalf("no frame within %v", d)
			return nil
		}
	}
}

// NextRaw returns the next frame's bytes.
func (c *Client) NextRaw() []byte {
	c.t.Helper()
	select {
	case b := <-c.raw:
		<-c.frames
		return b
	case <-time.After(Patience):
		c.t.Fatalf("no frame within %v", Patience)
		return nil
	}
}

// Nothing fails the test if a frame arrives within Quiet.
func (c *Client) Nothing() {
	c.t.Helper()
	select {
	case f := <-c.frames:
		<-c.raw
		c.t.Fatalf("unexpected frame %v", f)
	case <-time.After(Quiet):
	}
}

// Until returns frames up to and including the first one that matches.
func (c *Client) Until(match func(Frame) bool) []Frame {
	c.t.Helper()
	var out []Frame
	for {
		f := c.Next()
		out = append(out, f)
		if match(f) {
			return out
		}
	}
}

// NewID returns a fresh rpc id.
func (c *Client) NewID() string { return "r" + strconv.FormatInt(c.ids.Add(1), 10) }

// RPC sends an rpc (input omitted when nil) and returns its id.
func (c *Client) RPC(actor, actorID, method string, input any) string {
	c.t.Helper()
	id := c.NewID()
	m := map[string]any{"type": "rpc", "id": id, "actor": actor, "actorId": actorID, "method": method}
	if input != nil {
		m["input"] = input
	}
	c.Send(m)
	return id
}

// Call sends an rpc and returns its rpc:result, skipping other frames.
func (c *Client) Call(actor, actorID, method string, input any) Frame {
	c.t.Helper()
	id := c.RPC(actor, actorID, method, input)
	return c.Result(id)
}

// Result waits for the rpc:result with id, skipping other frames.
func (c *Client) Result(id string) Frame {
	c.t.Helper()
	fs := c.Until(func(f Frame) bool { return f.Type() == "rpc:result" && f["id"] == id })
	return fs[len(fs)-1]
}

// MustCall is Call that fails the test on an error result and returns the result.
func (c *Client) MustCall(actor, actorID, method string, input any) any {
	c.t.Helper()
	r := c.Call(actor, actorID, method, input)
	if e, ok := r["error"]; ok {
		c.t.Fatalf("%s.%s: error %v", actor, method, e)
	}
	return r["result"]
}

// Sub sends event:sub / state:sub / …
func (c *Client) Sub(typ, actor, actorID string) {
	c.t.Helper()
	c.Send(map[string]any{"type": typ, "actor": actor, "actorId": actorID})
}

// Snapshot sends state:sub and returns the state of the snapshot, skipping
// other frames.
func (c *Client) Snapshot(actor, actorID string) any {
	c.t.Helper()
	c.Sub("state:sub", actor, actorID)
	fs := c.Until(func(f Frame) bool {
		return f.Type() == "state:snapshot" && f["actor"] == actor && f["actorId"] == actorID
	})
	return fs[len(fs)-1]["state"]
}

// String renders a frame for messages.
func (f Frame) String() string { b, _ := json.Marshal(map[string]any(f)); return fmt.Sprint(string(b)) }

// wsSocket is a WebSocket connection as a client.Socket that keeps the
// library's errors, so that websocket.CloseStatus(c.Err()) works.
type wsSocket struct{ ws *websocket.Conn }

func (s wsSocket) Read() ([]byte, error) {
	_, data, err := s.ws.Read(context.Background())
	return data, err
}

func (s wsSocket) Write(ctx context.Context, frame []byte) error {
	return s.ws.Write(ctx, websocket.MessageText, frame)
}

func (s wsSocket) Close() error { return s.ws.Close(websocket.StatusNormalClosure, "") }
