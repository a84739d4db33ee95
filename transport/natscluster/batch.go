package natscluster

import (
	"sync"

	"github.com/nats-io/nats.go"

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
type batcher struct {
	id         string // the gateway's
	sessions   int    // open sessions using it; batchers.mu
	ns         Namespace
	subject    string
	maxPayload func() int64          // the connection's
	publish    func(*nats.Msg) error // Runtime.publishOutbound

	mu    sync.Mutex
	queue []batched
	// Reused by flush.
	window map[string]struct{}
	groups []group
	byKey  map[frameKey]int
	quoted []byte
}

// batched is a frame queued for a session.
type batched struct {
	session string
	frame   []byte
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
	b.queue = append(b.queue, batched{session, frame})
	b.mu.Unlock()
}

// flush publishes what is queued, in order. The queue is cut into windows
// in which no session appears twice; within a window, the entries of one
// frame become one envelope, in the order of the frames' first
// appearance. A session's frames are in successive windows, so they keep
// their order; sessions of one gateway share its subject, whose messages
// the gateway reads in order. Publishing under the lock keeps concurrent
// flushes from overtaking each other.
func (b *batcher) flush() {
	b.mu.Lock()
	defer b.mu.Unlock()
	q := b.queue
	if len(q) == 0 {
		return
	}
	if b.window == nil {
		b.window, b.byKey = map[string]struct{}{}, map[frameKey]int{}
	}
	for start := 0; start < len(q); {
		end := start
		for ; end < len(q); end++ {
			if _, twice := b.window[q[end].session]; twice {
				break
			}
			b.window[q[end].session] = struct{}{}
		}
		b.publishWindow(q[start:end])
		clear(b.window)
		start = end
	}
	clear(q) // drop the frames
	b.queue = q[:0]
}

// publishWindow publishes one envelope per distinct frame of entries (or
// more where the ids do not fit in one message).
func (b *batcher) publishWindow(entries []batched) {
	groups := b.groups[:0]
	for _, e := range entries {
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

// publishGroup publishes frame for ids, splitting the ids over as many
// envelopes as the connection's maximum payload requires. An envelope
// holds at least one id, so a frame too large on its own is still
// published, and its failure counted.
func (b *batcher) publishGroup(frame []byte, ids []string) {
	b.quoted = appendGatewayOutbound(b.quoted[:0], b.ns, nil, nil)
	fixed := len(b.quoted) + len(frame)
	budget := int(b.maxPayload()) - fixed
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
		env := appendGatewayOutbound(make([]byte, 0, fixed+size), b.ns, ids[:n], frame)
		b.publish(&nats.Msg{Subject: b.subject, Data: env}) // a failure is counted and logged
		ids = ids[n:]
	}
}
