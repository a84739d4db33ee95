package transporttest

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/testsupport/wstest"
	"github.com/zocket-go/zocket/transport/wscore"
)

// bigFrame is the size of the state frames that fill a paused client's
// queue. The socket of a paused client takes at most its receive buffer
// (capped at 256 KiB by dialPaused) and the server's send buffer (a few MiB):
// less than one bigFrame, which is only counted written once all of it is.
// The checks below stay right as long as the socket takes less than three
// of them.
const bigFrame = 8 << 20

// paused is a raw client that reads only when the test says so, with a
// receive buffer small enough that the server's writes stall within a
// few MiB.
type paused struct {
	*pinged
	id string // the client id from welcome
}

// dialPaused connects and reads welcome.
func dialPaused(t *testing.T, url string) *paused {
	t.Helper()
	d := ws.Dialer{NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			err = nc.(*net.TCPConn).SetReadBuffer(256 << 10)
		}
		return nc, err
	}}
	p := &paused{pinged: dialPingedWith(t, d, url)}
	var welcome struct {
		ClientID string `json:"clientId"`
	}
	require.NoError(t, json.Unmarshal(p.next().Payload, &welcome))
	p.id = welcome.ClientID
	return p
}

// queuer returns the server side of p's connection.
func (p *paused) queuer(s Server) stateQueuer {
	p.t.Helper()
	c := s.Conn(p.id)
	require.NotNil(p.t, c, "the server knows the connection")
	q, ok := c.(stateQueuer)
	require.True(p.t, ok, "the connection is a zocket.Flusher and a zocket.StateQueuer")
	return q
}

type stateQueuer interface {
	zocket.Flusher
	zocket.StateQueuer
}

// fillUntilRefused queues big state frames for a paused client until
// QueueState refuses one, and returns how many it took.
func fillUntilRefused(t *testing.T, q stateQueuer) int {
	t.Helper()
	big := bytes.Repeat([]byte("s"), bigFrame) // shared by every frame, as a broadcast's are
	n := 0
	for q.QueueState(big) {
		q.Flush(false)
		n++
		require.Less(t, n, 100, "QueueState never refused")
	}
	return n
}

// drainCounter counts the calls of an OnDrained callback and signals the
// first.
type drainCounter struct {
	calls atomic.Int32
	first chan struct{}
}

func newDrainCounter() *drainCounter { return &drainCounter{first: make(chan struct{}, 1)} }

func (d *drainCounter) fn() {
	if d.calls.Add(1) == 1 {
		d.first <- struct{}{}
	}
}

func (d *drainCounter) await(t *testing.T, what string) {
	t.Helper()
	select {
	case <-d.first:
	case <-time.After(wstest.Patience):
		t.Fatalf("OnDrained's callback did not run %s within %v", what, wstest.Patience)
	}
}

// State frames are refused from the high-water mark (half of SendQueue
// frames, or half of SendQueueBytes bytes) without closing anything;
// OnDrained's callback runs once, after the client read the queue down;
// then state frames are taken again.
func stateFramesRefusedAtHighWaterWithoutClosing(t *testing.T, h harness) {
	for name, bound := range map[string]struct {
		opts wscore.Options
		high int // frames at the high-water mark
	}{
		"Frames": {wscore.Options{SendQueue: 8, SendQueueBytes: 1 << 30}, 4},
		"Bytes":  {wscore.Options{SendQueue: 1 << 20, SendQueueBytes: 4 * bigFrame}, 2},
	} {
		t.Run(name, func(t *testing.T) {
			bound.opts.PingInterval = -1
			refusedAtHighWater(t, h, bound.opts, bound.high)
		})
	}
}

func refusedAtHighWater(t *testing.T, h harness, opts wscore.Options, high int) {
	s, url := h.start(t, App(), opts)
	p := dialPaused(t, url)
	q := p.queuer(s)

	n := fillUntilRefused(t, q)
	assert.GreaterOrEqual(t, n, high, "taken up to the high-water mark")
	assert.False(t, q.QueueState([]byte(`{"type":"state:patch"}`)), "still at the high-water mark")
	require.NoError(t, q.Queue([]byte(`{"type":"event","n":1}`)), "other frames are still taken")
	q.Flush(false)
	assert.Equal(t, 1, s.Len(), "refusing closes nothing")

	drained := newDrainCounter()
	q.OnDrained(drained.fn)
	assert.Zero(t, drained.calls.Load(), "the queue cannot drain while the client reads nothing")

	for range n {
		assert.Len(t, p.next().Payload, bigFrame)
	}
	assert.Equal(t, `{"type":"event","n":1}`, string(p.next().Payload), "nothing refused was sent")
	drained.await(t, "after the client read the queue")

	require.True(t, q.QueueState([]byte(`{"type":"state:patch","again":true}`)), "taken again once drained")
	q.Flush(false)
	assert.Equal(t, `{"type":"state:patch","again":true}`, string(p.next().Payload))
	assert.Equal(t, int32(1), drained.calls.Load(), "one call per registration")
}

// OnDrained's callback also runs when the connection ends with the queue
// full, so that nobody waits for it forever; registered on a closed
// connection it runs at once.
func onDrainedRunsWhenTheConnectionCloses(t *testing.T, h harness) {
	s, url := h.start(t, App(), wscore.Options{SendQueue: 8, SendQueueBytes: 1 << 30, PingInterval: -1})
	p := dialPaused(t, url)
	q := p.queuer(s)
	fillUntilRefused(t, q)

	drained := newDrainCounter()
	q.OnDrained(drained.fn)
	assert.Zero(t, drained.calls.Load(), "the queue cannot drain while the client reads nothing")
	require.NoError(t, p.nc.Close())
	drained.await(t, "when the connection closed")
	awaitCondition(t, "connection gone", func() bool { return s.Len() == 0 })

	ran := false
	q.OnDrained(func() { ran = true })
	assert.True(t, ran, "on a closed connection the callback runs at once, on the caller's goroutine")
	assert.False(t, q.QueueState([]byte(`{"type":"state:patch"}`)), "a closed connection takes nothing")
	assert.Equal(t, int32(1), drained.calls.Load(), "one call per registration")
}

// Events that a paused subscriber does not read close it with 1008 once
// its queue holds SendQueueBytes bytes, however few frames that is.
func byteBoundClosesASlowConsumer(t *testing.T, h harness) {
	closed := make(chan string, 1)
	_, url := h.start(t, App(), wscore.Options{
		SendQueue: 1 << 20, SendQueueBytes: 1 << 20, PingInterval: -1, WriteTimeout: wstest.Patience,
		OnSlowConsumer: func(id string) { closed <- id },
	})
	slow := dialPaused(t, url)
	slow.send(`{"type":"event:sub","actor":"blob","actorId":"e"}`)
	// Messages of a connection to an instance are handled in order: once
	// this answer arrives, the subscription is in place.
	slow.send(`{"type":"rpc","id":"r1","actor":"blob","actorId":"e","method":"echoSize","input":{"n":1}}`)
	for !bytes.Contains(slow.next().Payload, []byte(`"rpc:result"`)) {
	}

	writer := wstest.DialWelcome(t, url)
	// 40 MiB of events: more than the socket and the queue together hold.
	for range 160 {
		writer.MustCall("blob", "e", "shout", map[string]any{"n": 256 << 10})
	}

	var f ws.Frame
	for f = slow.next(); f.Header.OpCode != ws.OpClose; f = slow.next() {
		require.Equal(t, ws.OpText, f.Header.OpCode)
	}
	code, reason := ws.ParseCloseFrameData(f.Payload)
	assert.Equal(t, ws.StatusPolicyViolation, code)
	assert.Equal(t, wscore.ReasonSlowConsumer, reason)
	select {
	case id := <-closed:
		assert.Equal(t, slow.id, id, "OnSlowConsumer hears the closed connection's id")
	case <-time.After(wstest.Patience):
		t.Fatal("OnSlowConsumer was not called")
	}
}

// A frame larger than SendQueueBytes still goes out when the queue is
// below its bound (a big snapshot could never be sent otherwise), and the
// connection stays open.
func frameOverTheByteBoundStillGoesOut(t *testing.T, h harness) {
	s, url := h.start(t, App(), wscore.Options{SendQueueBytes: 64 << 10})
	c := wstest.DialWelcome(t, url)
	got := c.MustCall("blob", "big", "echoSize", map[string]any{"n": 256 << 10})
	assert.Len(t, got, 256<<10)
	assert.Equal(t, "y", c.MustCall("blob", "big", "echoSize", map[string]any{"n": 1}), "still open")
	assert.Equal(t, 1, s.Len())
}
