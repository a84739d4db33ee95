package zocket_test

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

// observingConn is a LocalConn that records, for every RPCDone, the id and
// the last frame sent before it.
type observingConn struct {
	*zocket.LocalConn
	mu   sync.Mutex
	done []string // id + " after " + last frame
	seen chan struct{}
}

func (c *observingConn) RPCDone(id json.RawMessage) {
	frames := c.Frames()
	c.mu.Lock()
	c.done = append(c.done, string(id)+" after "+string(frames[len(frames)-1]))
	c.mu.Unlock()
	c.seen <- struct{}{}
}

// wait waits for the next RPCDone.
func (c *observingConn) wait(t *testing.T) {
	t.Helper()
	select {
	case <-c.seen:
	case <-ctxT(t).Done():
		t.Fatal("RPCDone never called")
	}
}

func TestRPCObserver_IsToldOfEveryAnswerAfterItIsSent(t *testing.T) {
	h := zocket.NewHandler(chatApp())
	c := &observingConn{LocalConn: zocket.NewLocalConn("c1", zocket.Identity{}), seen: make(chan struct{}, 8)}
	h.OnConnection(c)

	for _, frame := range []string{
		`{"type":"rpc","id":"ok","actor":"chat","actorId":"r","method":"sendMessage","input":{"from":"a","text":"hi"}}`,
		`{"type":"rpc","id":2,"actor":"chat","actorId":"r","method":"fail"}`,
		`{"type":"rpc","id":"nomethod","actor":"chat","actorId":"r","method":"nope"}`,
		`{"type":"rpc","id":"noactor","actor":"nope","actorId":"r","method":"m"}`,
		`{"type":"rpc","id":"bad","actor":1,"actorId":"r","method":"m"}`,
	} {
		h.OnMessage(c, []byte(frame))
		c.wait(t)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	assert.Equal(t, []string{
		`"ok" after {"type":"rpc:result","id":"ok","result":1}`,
		`2 after {"type":"rpc:result","id":2,"error":"boom"}`,
		`"nomethod" after {"type":"rpc:result","id":"nomethod","error":"Unknown method: nope"}`,
		`"noactor" after {"type":"rpc:result","id":"noactor","error":"Unknown actor: nope"}`,
		`"bad" after {"type":"rpc:result","id":"bad","error":"Invalid rpc: actor, actorId and method must be strings"}`,
	}, c.done)
}

func TestRPCObserver_IsNotToldOfAnRPCWithoutID(t *testing.T) {
	h := zocket.NewHandler(chatApp())
	c := &observingConn{LocalConn: zocket.NewLocalConn("c1", zocket.Identity{}), seen: make(chan struct{}, 8)}
	h.OnConnection(c)
	h.OnMessage(c, []byte(`{"type":"rpc","actor":"chat","actorId":"r","method":"sendMessage","input":{"from":"a","text":"hi"}}`))
	h.OnMessage(c, []byte(`{"type":"rpc","id":"after","actor":"chat","actorId":"r","method":"fail"}`))
	c.wait(t) // the calls of one instance run in order: the first one is answered
	c.mu.Lock()
	defer c.mu.Unlock()
	require.Len(t, c.done, 1)
	assert.Contains(t, c.done[0], `"after" after`)
}

func TestRPCObserver_IsToldOfACallRefusedForTheInFlightLimit(t *testing.T) {
	release := make(chan struct{})
	hold := zocket.MethodNoIO("hold", func(c *lc) error { <-release; return nil })
	app := zocket.NewApp(zocket.WithMaxInFlight(1)).
		Register("log", zocket.NewActor[logState]().Methods(hold, tick))
	t.Cleanup(func() { app.Close(ctxT(t)) })
	h := zocket.NewHandler(app)
	c := &observingConn{LocalConn: zocket.NewLocalConn("c1", zocket.Identity{}), seen: make(chan struct{}, 8)}
	h.OnConnection(c)

	h.OnMessage(c, []byte(`{"type":"rpc","id":1,"actor":"log","actorId":"x","method":"hold"}`))
	h.OnMessage(c, []byte(`{"type":"rpc","id":2,"actor":"log","actorId":"x","method":"tick"}`))
	c.wait(t)
	c.mu.Lock()
	assert.Equal(t, []string{`2 after {"type":"rpc:result","id":2,"error":"Too many calls in flight (limit 1)"}`}, c.done)
	c.mu.Unlock()
	close(release)
	c.wait(t)
}
