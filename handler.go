package zocket

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/zocket-go/zocket/protocol"
)

// Handler connects transports to an App (the TypeScript createHandlers):
// a transport calls OnConnection when a socket opens, OnMessage for every
// frame, and OnClose when it closes. OnMessage never blocks on a running
// method: it parses, resolves the instance and enqueues, so messages from
// one connection to one instance keep their order while a slow method runs.
type Handler struct {
	app      *App
	sessions sync.Map // Connection → *session
	byID     sync.Map // client id → *session, for Disconnect
}

// session is the server side of one connection: the instances it
// interacted with, for OnClose, and what counts against its limits.
type session struct {
	mu        sync.Mutex
	conn      Connection
	closed    bool
	instances map[*instance]struct{} // trackLocked adds an instance on first contact
	subs      map[subKey]struct{}
	inflight  atomic.Int32 // rpcs not yet answered
}

// subKey is one subscription of a connection: an instance and a kind.
type subKey struct {
	k     key
	state bool
}

// NewHandler returns a Handler serving app.
func NewHandler(app *App) *Handler { return &Handler{app: app} }

// App returns the served App.
func (h *Handler) App() *App { return h.app }

// OnConnection registers c and sends it welcome with its client id. After
// App.Close it sends no welcome and closes c (Closer) with CloseGoingAway
// and the reason "server shutting down".
func (h *Handler) OnConnection(c Connection) {
	if h.app.isClosed() {
		h.app.log.Debug("zocket: connection refused: the app is closed", "clientId", c.ID())
		closeConn(c, CloseGoingAway, "server shutting down")
		return
	}
	h.Attach(c)
	if err := c.Send(protocol.AppendWelcome(nil, c.ID())); err != nil {
		h.app.log.Debug("zocket: welcome not sent", "clientId", c.ID(), "err", err)
	}
}

// Attach registers c without sending welcome (the distributed mode's
// gateway decides when a client learns its id).
func (h *Handler) Attach(c Connection) {
	s := &session{conn: c}
	if _, loaded := h.sessions.LoadOrStore(c, s); !loaded {
		h.byID.Store(c.ID(), s)
	}
}

// OnMessage handles one frame from c. Malformed frames are ignored and
// logged at debug level, except an rpc with an id, which is answered with
// an error. It never runs a method on the calling goroutine.
func (h *Handler) OnMessage(c Connection, frame []byte) {
	h.dispatch(c, frame, false)
}

// Dispatch is OnMessage for a transport that can lend its read goroutine.
// When frame is a call to an instance that is idle, the call is not given a
// mailbox goroutine: Dispatch returns it as run, which the caller must call
// at once, on its own goroutine, before handling anything else from c. run
// executes the method (with the instance's mailbox held, so ordering is as
// for OnMessage) and may take as long as the method does: a transport must
// not let that block its read loop for long, and should start reading on a
// new goroutine when run takes more than a moment (transport/wshttp hands
// reading over after 500µs). The answer to c is left queued (Queue, for a
// Flusher): after run returns, the transport must write what is queued for
// c before it next waits for input (it may first handle frames it has
// already read, so that pipelined answers leave together). In all other
// cases Dispatch returns nil.
//
// This saves a goroutine hand-off per call, which is most of the framework's
// cost for short methods.
func (h *Handler) Dispatch(c Connection, frame []byte) (run func()) {
	return h.dispatch(c, frame, true)
}

// OnParsed is OnMessage for a transport that has already parsed the frame
// with protocol.Parse, without error (the NATS runtime reads an rpc's id
// before the call runs): the frame is not parsed again. m keeps referring
// to the frame's bytes, which the Handler keeps.
func (h *Handler) OnParsed(c Connection, m protocol.Message) {
	h.dispatchParsed(c, &m, false)
}

func (h *Handler) dispatch(c Connection, frame []byte, inline bool) (run func()) {
	m, err := protocol.Parse(frame)
	if err != nil {
		if _, ok := h.sessions.Load(c); !ok {
			h.app.log.Warn("zocket: message from an unknown or closed connection ignored", "clientId", c.ID())
			return nil
		}
		if m.Type == protocol.TypeRPC && m.ID != nil {
			h.app.log.Info("zocket: malformed rpc rejected", "clientId", c.ID(), "err", err)
			h.send(c, protocol.AppendError(nil, m.ID, "Invalid rpc: actor, actorId and method must be strings"))
			rpcDone(c, m.ID)
			return nil
		}
		h.app.log.Debug("zocket: frame ignored", "clientId", c.ID(), "err", err)
		return nil
	}
	return h.dispatchParsed(c, &m, inline)
}

func (h *Handler) dispatchParsed(c Connection, m *protocol.Message, inline bool) (run func()) {
	v, ok := h.sessions.Load(c)
	if !ok {
		h.app.log.Warn("zocket: message from an unknown or closed connection ignored", "clientId", c.ID())
		return nil
	}
	s := v.(*session)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	switch m.Type {
	case protocol.TypeRPC:
		return h.rpc(s, m, inline)
	case protocol.TypeEventSub, protocol.TypeStateSub:
		h.subscribe(s, m)
	case protocol.TypeEventUnsub, protocol.TypeStateUnsub:
		h.unsubscribe(s, m)
	default:
		h.app.log.Debug("zocket: server-bound frame of a client type ignored", "clientId", c.ID(), "type", m.Type)
	}
	return nil
}

func (h *Handler) send(c Connection, frame []byte) {
	if err := c.Send(frame); err != nil {
		h.app.log.Debug("zocket: send failed", "clientId", c.ID(), "err", err)
	}
}

// trackLocked makes c known to in, queueing onConnect on its first interaction.
// The caller holds s.mu and in.mu.
func (h *Handler) trackLocked(s *session, in *instance) {
	if !in.trackLocked(s.conn) {
		return
	}
	if s.instances == nil {
		s.instances = map[*instance]struct{}{}
	}
	s.instances[in] = struct{}{}
	if in.sessions == nil {
		in.sessions = map[*session]struct{}{}
	}
	in.sessions[s] = struct{}{}
	if in.kind.hasConnectHook() {
		in.pushFunc(func() { in.kind.connect(in, s.conn) })
	}
}

func (h *Handler) rpc(s *session, m *protocol.Message, inline bool) (run func()) {
	at, ok := h.app.actor(m.Actor)
	if !ok {
		h.app.log.Info("zocket: rpc for unknown actor", "clientId", s.conn.ID(), "actor", m.Actor)
		h.send(s.conn, protocol.AppendError(nil, m.ID, "Unknown actor: "+m.Actor))
		rpcDone(s.conn, m.ID)
		return nil
	}
	if limit := h.app.maxInFlight; int(s.inflight.Add(1)) > limit && limit > 0 {
		s.inflight.Add(-1)
		h.app.log.Warn("zocket: rpc refused: too many in flight", "clientId", s.conn.ID(), "limit", limit)
		h.send(s.conn, protocol.AppendError(nil, m.ID, fmt.Sprintf("Too many calls in flight (limit %d)", limit)))
		rpcDone(s.conn, m.ID)
		return nil
	}
	item := &callItem{method: m.Method, input: m.Input, conn: s.conn, id: m.ID, sess: s,
		info: callInfo{clientID: s.conn.ID(), identity: s.conn.Identity(),
			actor: m.Actor, actorID: m.ActorID, method: m.Method,
			trace: newTraceContext(m.TraceParent, m.TraceState)}}
	err := h.app.withInstance(key{m.Actor, m.ActorID}, at, func(in *instance) {
		h.trackLocked(s, in)
		item.sc = newTurn(h.app.ctx, in)
		if inline && in.claimIdleLocked() {
			run = func() { in.runClaimed(work{call: item}) }
			return
		}
		in.pushLocked(work{call: item})
	})
	if err != nil {
		s.inflight.Add(-1)
		text := "server shutting down"
		if !errors.Is(err, ErrClosed) {
			text = err.Error()
			h.app.log.Warn("zocket: rpc refused", "clientId", s.conn.ID(), "actor", m.Actor, "actorId", m.ActorID, "err", err)
		}
		h.send(s.conn, protocol.AppendError(nil, m.ID, text))
		rpcDone(s.conn, m.ID)
	}
	return run
}

func (h *Handler) subscribe(s *session, m *protocol.Message) {
	at, ok := h.app.actor(m.Actor)
	if !ok {
		h.app.log.Debug("zocket: subscription to unknown actor ignored", "clientId", s.conn.ID(), "actor", m.Actor)
		return
	}
	sk := subKey{key{m.Actor, m.ActorID}, m.Type == protocol.TypeStateSub}
	if _, dup := s.subs[sk]; !dup {
		if limit := h.app.maxSubs; limit > 0 && len(s.subs) >= limit {
			h.app.log.Warn("zocket: subscription refused: too many", "clientId", s.conn.ID(), "limit", limit,
				"actor", m.Actor, "actorId", m.ActorID, "type", m.Type)
			return
		}
		if s.subs == nil {
			s.subs = map[subKey]struct{}{}
		}
		s.subs[sk] = struct{}{}
	}
	if err := h.app.withInstance(sk.k, at, func(in *instance) {
		var resume *resumePoint
		if sk.state && m.HasVersion {
			resume = &resumePoint{version: m.Version, epoch: m.Epoch}
		}
		in.subscribeLocked(s.conn, sk.state, resume)
		h.trackLocked(s, in)
	}); err != nil && !errors.Is(err, ErrClosed) {
		delete(s.subs, sk)
		h.app.log.Warn("zocket: subscription refused", "clientId", s.conn.ID(), "actor", m.Actor,
			"actorId", m.ActorID, "type", m.Type, "err", err)
	}
}

// unsubscribe never creates an instance (TS does, a deliberate difference) and
// does not fire onDisconnect; the connection stays known.
func (h *Handler) unsubscribe(s *session, m *protocol.Message) {
	state := m.Type == protocol.TypeStateUnsub
	delete(s.subs, subKey{key{m.Actor, m.ActorID}, state})
	in := h.app.lookup(key{m.Actor, m.ActorID})
	if in == nil {
		return
	}
	in.mu.Lock()
	in.unsubscribeLocked(s.conn.ID(), state)
	in.mu.Unlock()
}

// OnClose forgets c: it leaves every instance's subscriber sets and known
// connections, and onDisconnect is queued where it had interacted. Later
// messages from c are ignored.
func (h *Handler) OnClose(c Connection) {
	v, ok := h.sessions.LoadAndDelete(c)
	if !ok {
		return
	}
	s := v.(*session)
	h.byID.CompareAndDelete(c.ID(), s)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for in := range s.instances {
		in.mu.Lock()
		delete(in.sessions, s)
		id := c.ID()
		in.unsubscribeLocked(id, true)
		in.unsubscribeLocked(id, false)
		_, known := in.known[id]
		delete(in.known, id)
		if known && !in.closing && in.kind.hasDisconnectHook() {
			in.pushFunc(func() {
				in.kind.disconnect(in, c)
				in.mu.Lock()
				delete(in.connCtx, id)
				in.mu.Unlock()
			})
		} else {
			delete(in.connCtx, id)
		}
		in.mu.Unlock()
	}
	s.instances = nil
}

// Disconnect closes the connection with client id clientID, for instance
// after its token was revoked: the connection is forgotten at once as by
// OnClose (onDisconnect is queued, later frames are ignored) and closed
// through its transport (Closer) with ClosePolicyViolation and reason,
// after the frames already queued. It reports whether such a connection
// was open. A transport whose connections are not Closers (the distributed
// mode's runtime) only forgets it.
func (h *Handler) Disconnect(clientID, reason string) bool {
	v, ok := h.byID.Load(clientID)
	if !ok {
		return false
	}
	c := v.(*session).conn
	h.OnClose(c)
	closeConn(c, ClosePolicyViolation, reason)
	return true
}

// closeConn closes c through its transport, if it can be closed.
func closeConn(c Connection, code int, reason string) {
	if cl, ok := c.(Closer); ok {
		cl.CloseWith(code, reason)
	}
}
