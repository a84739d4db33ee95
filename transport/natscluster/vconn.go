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
// zocket.Connection (and Flusher) whose frames are published to the
// session's outbound subject or, for a session of a Go gateway, queued in
// the gateway's batcher and published with the frames of its other
// sessions (see HeaderGateway).
type vconn struct {
	r        *Runtime
	id       string
	identity zocket.Identity
	subject  string
	batch    *batcher // the session's gateway's; nil: one envelope per message on subject

	aliveAt time.Time // when a gateway last listed the session; zero: never (Runtime.mu)

	mu      sync.Mutex
	pending map[string][]jetstream.Msg // rpc id → the deliveries its result acks
}

var (
	_ zocket.RPCObserver = (*vconn)(nil)
	_ zocket.Flusher     = (*vconn)(nil)
)

func (c *vconn) ID() string                { return c.id }
func (c *vconn) Identity() zocket.Identity { return c.identity }

// Send is Queue and Flush.
func (c *vconn) Send(frame []byte) error {
	err := c.Queue(frame)
	c.Flush(false)
	return err
}

// Queue queues frame in the gateway's batcher or, for a session without
// one, publishes it at once in an OutboundEnvelope. Either way the publish
// does not wait for the PubAck (failures are counted and logged), and
// publishes keep their order.
func (c *vconn) Queue(frame []byte) error {
	if c.batch != nil {
		c.batch.add(c.id, frame)
		return nil
	}
	env := appendOutbound(make([]byte, 0, len(frame)+128), c.r.opts.Namespace, c.id, frame)
	return c.r.publishOutbound(&nats.Msg{Subject: c.subject, Data: env})
}

// Flush publishes what the gateway's batcher holds: this session's frames
// and those of the gateway's other sessions. It never waits for a PubAck,
// so inline makes no difference.
func (c *vconn) Flush(bool) {
	if c.batch != nil {
		c.batch.flush()
	}
}

// publishOutbound publishes m without waiting for the PubAck; failures are
// counted and logged, here or in the JetStream error handler.
func (r *Runtime) publishOutbound(m *nats.Msg) error {
	r.clock.start(m)
	_, err := r.js.PublishMsgAsync(m)
	if err != nil {
		r.clock.done(m, err)
		r.outboundFailed(m.Subject, err)
	}
	return err
}

// RPCDone acks the inbound deliveries of the rpc id: the Handler calls it
// once the rpc:result went to Send or Queue (zocket.RPCObserver). A queued
// result is published first, so that the ack never precedes it.
func (c *vconn) RPCDone(id json.RawMessage) {
	c.mu.Lock()
	msgs := c.pending[string(id)]
	delete(c.pending, string(id))
	c.mu.Unlock()
	if c.batch != nil {
		c.batch.ackAfter(msgs)
		return
	}
	for _, m := range msgs {
		m.Ack()
	}
}

// ackAfterQueued acks msg once the frames queued so far are published:
// at once for a session without a batcher, whose frames are published
// as they are queued.
func (c *vconn) ackAfterQueued(msg jetstream.Msg) {
	if c.batch != nil {
		c.batch.ackAfter([]jetstream.Msg{msg})
		return
	}
	msg.Ack()
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
