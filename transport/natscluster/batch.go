package natscluster

import (
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zocket-go/zocket/protocol"
)

// Fan-out encoded once per gateway (Go extension). A Go gateway marks every
// message it publishes to INBOUND with HeaderGateway, its id. The runtime
// then sends that gateway's sessions their messages on the gateway's one
// subject (GatewayOutboundSubject) instead of on one subject per session:
// the virtual connections of a gateway's sessions queue their frames in
// the gateway's batcher, and each flush publishes one
// GatewayOutboundEnvelope per frame with the ids of every session it is
// for. The App hands the same byte slice to every subscriber of a commit,
// so a commit's patch reaches all the gateway's subscribers in one
// message. Sessions without the header (a TypeScript gateway, or a Go
// gateway with GatewayOptions.PerSessionOutbound) get one envelope per
// message on their own subject, as the TypeScript runtime sends them.

// HeaderGateway is the NATS header in which a Go gateway sends its id with
// every INBOUND message. A runtime that sees it answers the session on
// GatewayOutboundSubject; TypeScript runtimes ignore it.
const HeaderGateway = "Zocket-Gateway"

// batchers are a runtime's batchers, one per gateway id, created on first
// use and forgotten when the last of the gateway's sessions the runtime
// knows closes: a gateway id stands for one gateway process, and a batcher
// keeps the room of its largest fan-out, so those of gateways that are gone
// must not pile up.
type batchers struct {
	mu sync.Mutex
	m  map[string]*batcher
}

// gatewayBatcher returns the batcher of the gateway with the given id for
// one more session, or nil when id is empty or cannot be a subject token
// (the session then gets per-session envelopes). dropBatcher gives it back
// when the session closes.
func (r *Runtime) gatewayBatcher(id string) *batcher {
	if id == "" || ValidToken("gateway id", id) != nil {
		return nil
	}
	bs := &r.batchers
	bs.mu.Lock()
	defer bs.mu.Unlock()
	b := bs.m[id]
	if b == nil {
		if bs.m == nil {
			bs.m = map[string]*batcher{}
		}
		b = &batcher{id: id, ns: r.opts.Namespace, subject: GatewayOutboundSubject(r.opts.Namespace, id),
			maxPayload: r.nc.MaxPayload, publish: r.publishOutbound}
		bs.m[id] = b
	}
	b.sessions++
	return b
}

// dropBatcher tells that a session of b's gateway closed, and forgets b
// with the last one. A session that still queues into b keeps it; the
// gateway's next session gets a new one.
func (r *Runtime) dropBatcher(b *batcher) {
	if b == nil {
		return
	}
	bs := &r.batchers
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if b.sessions--; b.sessions <= 0 && bs.m[b.id] == b {
		delete(bs.m, b.id)
	}
}

// batcher holds the frames queued for the sessions of one gateway, in
// order, until a flush publishes them.
//
// Flushes combine: the caller that finds no flush running publishes
// everything queued, and goes on while more is queued meanwhile; a caller
// that finds one running leaves its frames (and acks) to it. Under load,
// the results and patches of many calls go out together, packed into as
// few messages as the connection's maximum payload allows; alone, a call's
// frames leave at once, on its own goroutine.
type batcher struct {
	id         string // the gateway's
	sessions   int    // open sessions using it; batchers.mu
	ns         Namespace
	subject    string
	maxPayload func() int64          // the connection's
	publish    func(*nats.Msg) error // Runtime.publishOutbound

	mu       sync.Mutex
	queue    []batched
	flushing bool // a flush is publishing: it takes what is queued

	// Used by the one running flush only.
	spare  []batched
	window map[string]struct{}
	groups []group
	byKey  map[frameKey]int
	quoted []byte
	out    []byte          // the message being filled: "[" and envelopes
	envs   int             // envelopes in out
	acks   []jetstream.Msg // deliveries to ack once this round is published
}

// batched is a frame queued for a session, or (acks set) deliveries to
// ack once everything queued before them is published.
type batched struct {
	session string
	frame   []byte
	acks    []jetstream.Msg
}

// group is a frame and the sessions it goes to in one envelope.
type group struct {
	frame []byte
	ids   []string
}

// frameKey identifies a frame by its bytes' address and length: the App
// passes the same slice to every subscriber of a commit.
type frameKey struct {
	p *byte
	n int
}

func keyOf(frame []byte) frameKey {
	if len(frame) == 0 {
		return frameKey{}
	}
	return frameKey{&frame[0], len(frame)}
}

// add queues frame for session.
func (b *batcher) add(session string, frame []byte) {
	b.mu.Lock()
	b.queue = append(b.queue, batched{session: session, frame: frame})
	b.mu.Unlock()
}

// ackAfter acks msgs once every frame queued so far is published (an
// rpc's deliveries, once its result is), and flushes.
func (b *batcher) ackAfter(msgs []jetstream.Msg) {
	if len(msgs) == 0 {
		b.flush()
		return
	}
	b.mu.Lock()
	b.queue = append(b.queue, batched{acks: msgs})
	b.mu.Unlock()
	b.flush()
}

// flush publishes what is queued, in order, unless a flush is running,
// which then publishes it. The queue is cut into windows in which no
// session appears twice; within a window, the entries of one frame become
// one envelope, in the order of the frames' first appearance. A session's
// frames are in successive windows, so they keep their order; sessions of
// one gateway share its subject, whose messages the gateway reads in order.
func (b *batcher) flush() {
	b.mu.Lock()
	if b.flushing {
		b.mu.Unlock()
		return
	}
	b.flushing = true
	defer b.recoverFlush()
	for len(b.queue) > 0 {
		q := b.queue
		b.queue = b.spare[:0]
		b.mu.Unlock()
		b.publishRound(q)
		clear(q) // drop the frames
		b.mu.Lock()
		b.spare = q[:0]
	}
	b.flushing = false
	b.mu.Unlock()
}

// recoverFlush lets the next flush run after a panic in a publish (an
// Observer's, say) went through flush: without it, flushing would stay
// set and the gateway's frames pile up unpublished for good. The round
// that panicked is dropped, its deliveries unacked (they are redelivered);
// the panic goes on to flush's caller.
func (b *batcher) recoverFlush() {
	if r := recover(); r != nil {
		b.mu.Lock()
		b.flushing = false
		clear(b.window)
		clear(b.byKey)
		b.groups, b.out, b.envs = nil, b.out[:0], 0
		clear(b.acks)
		b.acks = b.acks[:0]
		b.mu.Unlock()
		panic(r)
	}
}

// publishRound publishes q's frames, then acks q's deliveries.
func (b *batcher) publishRound(q []batched) {
	if b.window == nil {
		b.window, b.byKey = map[string]struct{}{}, map[frameKey]int{}
	}
	for start := 0; start < len(q); {
		end := start
		for ; end < len(q); end++ {
			if q[end].acks != nil {
				b.acks = append(b.acks, q[end].acks...)
				continue
			}
			if _, twice := b.window[q[end].session]; twice {
				break
			}
			b.window[q[end].session] = struct{}{}
		}
		b.publishWindow(q[start:end])
		clear(b.window)
		start = end
	}
	b.emit()
	for _, m := range b.acks {
		m.Ack()
	}
	clear(b.acks)
	b.acks = b.acks[:0]
}

// publishWindow adds one envelope per distinct frame of entries (or
// more where the ids do not fit in one message) to the outgoing message.
func (b *batcher) publishWindow(entries []batched) {
	groups := b.groups[:0]
	for _, e := range entries {
		if e.acks != nil {
			continue
		}
		k := keyOf(e.frame)
		i, ok := b.byKey[k]
		if !ok {
			i = len(groups)
			b.byKey[k] = i
			if i < cap(groups) { // a group of an earlier window: keep its ids' room
				groups = groups[:i+1]
				groups[i].frame = e.frame
			} else {
				groups = append(groups, group{frame: e.frame})
			}
		}
		groups[i].ids = append(groups[i].ids, e.session)
	}
	for _, g := range groups {
		b.publishGroup(g.frame, g.ids)
	}
	for i := range groups { // drop the frames and ids, keep the room
		clear(groups[i].ids)
		groups[i] = group{ids: groups[i].ids[:0]}
	}
	clear(b.byKey)
	b.groups = groups
}

// publishGroup adds the envelopes of frame for ids, splitting the ids over
// as many envelopes as the connection's maximum payload requires. An
// envelope holds at least one id, so a frame too large on its own is
// still published, and its failure counted.
func (b *batcher) publishGroup(frame []byte, ids []string) {
	b.quoted = appendGatewayOutbound(b.quoted[:0], b.ns, nil, nil)
	fixed := len(b.quoted) + len(frame)
	limit := int(b.maxPayload())
	budget := limit - fixed - 2 // and the brackets of a batch
	for len(ids) > 0 {
		n, size := 0, 0
		for ; n < len(ids); n++ {
			b.quoted = protocol.AppendString(b.quoted[:0], ids[n])
			w := len(b.quoted) + 1 // and a comma
			if n > 0 && size+w > budget {
				break
			}
			size += w
		}
		if b.envs > 0 && len(b.out)+1+fixed+size+1 > limit {
			b.emit() // the envelope does not fit beside the others
		}
		if b.envs == 0 {
			b.out = append(b.out[:0], '[')
		} else {
			b.out = append(b.out, ',')
		}
		b.out = appendGatewayOutbound(b.out, b.ns, ids[:n], frame)
		b.envs++
		ids = ids[n:]
	}
}

// emit publishes the envelopes added so far: one alone as itself, several
// as a JSON array (GatewayOutboundEnvelope).
func (b *batcher) emit() {
	if b.envs == 0 {
		return
	}
	var data []byte
	if b.envs == 1 {
		data = append([]byte(nil), b.out[1:]...)
	} else {
		data = append(append(make([]byte, 0, len(b.out)+1), b.out...), ']')
	}
	b.publish(&nats.Msg{Subject: b.subject, Data: data}) // a failure is counted and logged
	b.out, b.envs = b.out[:0], 0
}
