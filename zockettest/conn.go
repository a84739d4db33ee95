package zockettest

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/protocol"
)

// waitLimit bounds how long Next and Call wait for a frame before failing
// the test; under testing/synctest it is fake time and costs nothing.
const waitLimit = 10 * time.Second

// Frame is one frame the server sent, decoded as JSON (numbers are
// float64).
type Frame map[string]any

// Type returns the frame's "type".
func (f Frame) Type() string { s, _ := f["type"].(string); return s }

// Conn is a raw connection to a Server: the test writes frames as a client
// would and reads, in order, what the server sends. It wraps a
// zocket.LocalConn registered with the server's Handler. Its methods fail
// the test on error.
type Conn struct {
	t     testing.TB
	h     *zocket.Handler
	local *zocket.LocalConn
	ids   int
	held  []Frame // read while looking for a result, returned by Next first
}

// Connect opens a raw connection with the given client id and identity;
// the server sends welcome, which is the first frame Next returns. The
// connection closes when t ends. id must be unique among the server's open
// connections, Dial's included ("zt-client-1", …): the Handler keys a
// connection's subscriptions by its id, so closing one of two connections
// with the same id would end the other's subscriptions too.
func (s *Server) Connect(t testing.TB, id string, identity zocket.Identity) *Conn {
	c := &Conn{t: t, h: s.h, local: zocket.NewLocalConn(id, identity)}
	s.h.OnConnection(c.local)
	t.Cleanup(c.Close)
	return c
}

// Write hands frame to the server as if the client had sent it.
func (c *Conn) Write(frame string) {
	c.h.OnMessage(c.local, []byte(frame))
}

// Next returns the next frame the server sent, waiting for it.
func (c *Conn) Next() Frame {
	c.t.Helper()
	if len(c.held) > 0 {
		f := c.held[0]
		c.held = c.held[1:]
		return f
	}
	return c.read()
}

// read waits for the server's next frame.
func (c *Conn) read() Frame {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.t.Context(), waitLimit)
	defer cancel()
	raw, err := c.local.Next(ctx)
	if err != nil {
		c.t.Fatalf("zockettest: no frame from the server: %v", err)
	}
	var f Frame
	if err := json.Unmarshal(raw, &f); err != nil {
		c.t.Fatalf("zockettest: frame %s: %v", raw, err)
	}
	return f
}

// Call sends an rpc with a new id and returns its rpc:result. The frames
// that arrive before the result (patches, events) stay for Next, in order.
// input is encoded as JSON; nil sends no input.
func (c *Conn) Call(actor, actorID, method string, input any) Frame {
	c.t.Helper()
	var in json.RawMessage
	if input != nil {
		var err error
		if in, err = json.Marshal(input); err != nil {
			c.t.Fatalf("zockettest: input of %s: %v", method, err)
		}
	}
	c.ids++
	id := "zt" + strconv.Itoa(c.ids)
	c.h.OnMessage(c.local, protocol.AppendRPC(nil, json.RawMessage(strconv.Quote(id)), actor, actorID, method, in))
	var before []Frame
	for {
		f := c.read()
		if f.Type() == string(protocol.TypeRPCResult) && f["id"] == id {
			c.held = append(c.held, before...)
			return f
		}
		before = append(before, f)
	}
}

// Close closes the connection: the server runs its disconnect hooks and
// later frames are neither accepted nor delivered.
func (c *Conn) Close() {
	c.local.Close()
	c.h.OnClose(c.local)
}
