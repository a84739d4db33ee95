package natscluster

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zocket-go/zocket"
)

// vconn is a runtime's stand-in for a gateway session's socket: a
// zocket.Connection whose frames are published to the session's outbound
// subject.
type vconn struct {
	r        *Runtime
	id       string
	identity zocket.Identity
	subject  string

	aliveAt time.Time // when a gateway last listed the session; zero: never (Runtime.mu)

	mu      sync.Mutex
	pending map[string][]jetstream.Msg // rpc id → the deliveries its result acks
}

var _ zocket.RPCObserver = (*vconn)(nil)

func (c *vconn) ID() string                { return c.id }
func (c *vconn) Identity() zocket.Identity { return c.identity }

// Send publishes frame in an OutboundEnvelope without waiting for the
// PubAck (failures are counted and logged); publishes keep their
// order.
func (c *vconn) Send(frame []byte) error {
	env := appendOutbound(make([]byte, 0, len(frame)+128), c.r.opts.Namespace, c.id, frame)
	m := &nats.Msg{Subject: c.subject, Data: env}
	c.r.clock.start(m)
	_, err := c.r.js.PublishMsgAsync(m)
	if err != nil {
		c.r.clock.done(m, err)
		c.r.outboundFailed(c.subject, err)
	}
	return err
}

// RPCDone acks the inbound deliveries of the rpc id: the Handler calls it
// once the rpc:result went to Send (zocket.RPCObserver).
func (c *vconn) RPCDone(id json.RawMessage) {
	c.mu.Lock()
	msgs := c.pending[string(id)]
	delete(c.pending, string(id))
	c.mu.Unlock()
	for _, m := range msgs {
		m.Ack()
	}
}

// expect records that msg's rpc will be answered with id.
func (c *vconn) expect(id string, msg jetstream.Msg) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pending == nil {
		c.pending = map[string][]jetstream.Msg{}
	}
	c.pending[id] = []jetstream.Msg{msg}
}

// redelivered reports whether the rpc id is still running; if so msg (a
// redelivery, or a duplicate message) is acked with its result.
func (c *vconn) redelivered(id string, msg jetstream.Msg) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	msgs, ok := c.pending[id]
	if !ok {
		return false
	}
	c.pending[id] = append(msgs, msg)
	return true
}

// pendingMsgs appends the deliveries whose rpcs are still running.
func (c *vconn) pendingMsgs(dst []jetstream.Msg) []jetstream.Msg {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, msgs := range c.pending {
		dst = append(dst, msgs...)
	}
	return dst
}
