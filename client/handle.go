package client

import (
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/protocol"
	"github.com/zocket-go/zocket/statestore"
)

type handleKey struct{ actor, id string }

// Handle is one reference to an actor instance (actor, id). Handles for the
// same pair share one underlying subscription state (listeners, state
// store); it is reference-counted: the last Release unsubscribes, after
// Options.DisposeDelay, unless the pair is acquired again meanwhile.
// A Handle is safe for concurrent use.
type Handle struct {
	core *handleCore
	once sync.Once
}

// handleCore is the shared state behind the Handles of one pair.
type handleCore struct {
	c   *Client
	key handleKey
	seq int // creation order, for resubscription

	mu          sync.Mutex
	refs        int
	dispose     *time.Timer
	listeners   map[string][]*eventListener
	nListeners  int
	stateSubs   int
	wantsEvents bool
	wantsState  bool
	store       *statestore.Store
	resuming    bool // a state:sub for a gap is unanswered: send no other
	dead        bool
}

type eventListener struct{ fn func(payload json.RawMessage) }

// Actor acquires a handle for instance id of the actor type. Creating a
// handle sends nothing: subscriptions start with the first listener.
func (c *Client) Actor(actor, id string) *Handle {
	k := handleKey{actor, id}
	c.mu.Lock()
	defer c.mu.Unlock()
	if h := c.handles[k]; h != nil {
		h.mu.Lock()
		if !h.dead {
			h.refs++
			if h.dispose != nil {
				h.dispose.Stop() // re-acquired before teardown: same subscriptions, no traffic
				h.dispose = nil
			}
			h.mu.Unlock()
			return &Handle{core: h}
		}
		h.mu.Unlock()
	}
	c.seq++
	h := &handleCore{c: c, key: k, seq: c.seq, refs: 1, listeners: map[string][]*eventListener{}, store: statestore.New()}
	c.handles[k] = h
	return &Handle{core: h}
}

// Release gives the reference back; calling it again does nothing. When
// the last reference goes, the handle unsubscribes after
// Options.DisposeDelay unless re-acquired.
func (h *Handle) Release() {
	h.once.Do(func() {
		core := h.core
		core.mu.Lock()
		defer core.mu.Unlock()
		if core.refs == 0 {
			return
		}
		core.refs--
		if core.refs == 0 && !core.dead {
			core.dispose = time.AfterFunc(core.c.opts.DisposeDelay, core.disposeIfUnused)
		}
	})
}

func (h *handleCore) disposeIfUnused() {
	h.mu.Lock()
	unused := h.refs == 0 && h.dispose != nil
	h.dispose = nil
	h.mu.Unlock()
	if unused {
		h.teardown()
	}
}

// teardown unsubscribes (if connected), drops listeners and state, and
// forgets the handle.
func (h *handleCore) teardown() {
	h.mu.Lock()
	if h.dead {
		h.mu.Unlock()
		return
	}
	h.dead = true
	if h.dispose != nil {
		h.dispose.Stop()
		h.dispose = nil
	}
	events, state := h.wantsEvents, h.wantsState
	h.wantsEvents, h.wantsState = false, false
	h.listeners = map[string][]*eventListener{}
	h.nListeners, h.stateSubs = 0, 0
	h.store = statestore.New()
	h.mu.Unlock()
	if events {
		h.sendSub(protocol.TypeEventUnsub)
	}
	if state {
		h.sendSub(protocol.TypeStateUnsub)
	}
	h.c.mu.Lock()
	if h.c.handles[h.key] == h {
		delete(h.c.handles, h.key)
	}
	h.c.mu.Unlock()
}

func (c *Client) orderedHandlesLocked() []*handleCore {
	hs := make([]*handleCore, 0, len(c.handles))
	for _, h := range c.handles {
		hs = append(hs, h)
	}
	slices.SortFunc(hs, func(a, b *handleCore) int { return a.seq - b.seq })
	return hs
}

// resubscribe re-sends this handle's subscriptions after a socket opened;
// the state subscription resumes from the version the handle has.
func (h *handleCore) resubscribe() {
	h.mu.Lock()
	events, state := h.wantsEvents, h.wantsState
	h.resuming = false // a new connection: a gap may ask again
	h.mu.Unlock()
	if events {
		h.sendSub(protocol.TypeEventSub)
	}
	if state {
		h.sendStateSub()
	}
}

// receive routes an event, snapshot or patch for this pair.
func (h *handleCore) receive(m *protocol.Message) {
	if m.Type != protocol.TypeEvent {
		h.receiveState(m)
		return
	}
	h.mu.Lock()
	ls := h.listeners[m.Event]
	h.mu.Unlock()
	for _, l := range ls {
		l.fn(m.Payload)
	}
}

// sendSub sends a subscription frame for this pair, if connected.
func (h *handleCore) sendSub(t protocol.Type) {
	h.c.sendBestEffort(protocol.AppendSub(nil, t, h.key.actor, h.key.id))
}

// Name returns the actor type and instance id.
func (h *Handle) Name() (actor, id string) { return h.core.key.actor, h.core.key.id }

// On registers fn for the named event. The first listener of a handle
// sends event:sub; removing the last sends event:unsub.
func (h *Handle) On(event string, fn func(payload json.RawMessage)) (off func()) {
	core := h.core
	l := &eventListener{fn: fn}
	core.mu.Lock()
	core.listeners[event] = append(slices.Clone(core.listeners[event]), l)
	core.nListeners++
	first := !core.wantsEvents
	core.wantsEvents = true
	core.mu.Unlock()
	if first {
		core.sendSub(protocol.TypeEventSub)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			core.mu.Lock()
			ls := core.listeners[event]
			i := slices.Index(ls, l)
			if i < 0 {
				core.mu.Unlock()
				return
			}
			core.listeners[event] = slices.Delete(slices.Clone(ls), i, i+1)
			core.nListeners--
			last := core.nListeners == 0 && core.wantsEvents
			if last {
				core.wantsEvents = false
			}
			core.mu.Unlock()
			if last {
				core.sendSub(protocol.TypeEventUnsub)
			}
		})
	}
}

// OnEvent registers a typed listener for a declared event.
func OnEvent[P any](h *Handle, ev *zocket.EventDef[P], fn func(P)) (off func()) {
	return h.On(ev.Name(), func(payload json.RawMessage) {
		var p P
		if err := json.Unmarshal(payload, &p); err != nil {
			h.core.c.opts.Logger.Warn("client: event payload does not decode", "event", ev.Name(), "err", err)
			return
		}
		fn(p)
	})
}

// Subscribe registers fn for the instance's state (the decoded JSON; do not
// modify it). The first state subscriber sends state:sub (resuming from
// the state's version when known); fn is called at once if a state is
// known (possibly stale, until the server's answer brings it up to date),
// then after every update. Removing the last subscriber sends state:unsub
// but keeps the last state (State still returns it).
func (h *Handle) Subscribe(fn func(state any)) (off func()) {
	return h.subscribe(func(s *statestore.Store) func() { return s.Subscribe(fn) })
}

// OnState is Subscribe with the state decoded into S, once per update.
func OnState[S any](h *Handle, fn func(S)) (off func()) {
	return h.subscribe(func(s *statestore.Store) func() { return statestore.SubscribeTyped(s, fn) })
}

func (h *Handle) subscribe(add func(*statestore.Store) func()) (off func()) {
	core := h.core
	core.mu.Lock()
	core.stateSubs++
	first := !core.wantsState
	core.wantsState = true
	store := core.store
	core.mu.Unlock()
	if first {
		core.sendStateSub()
	}
	unsub := add(store)
	var once sync.Once
	return func() {
		once.Do(func() {
			unsub()
			core.mu.Lock()
			if core.store != store || core.stateSubs == 0 {
				core.mu.Unlock()
				return
			}
			core.stateSubs--
			last := core.stateSubs == 0 && core.wantsState
			if last {
				core.wantsState = false
			}
			core.mu.Unlock()
			if last {
				core.sendSub(protocol.TypeStateUnsub)
			}
		})
	}
}

// State returns the last known state (decoded JSON) and whether there is one.
func (h *Handle) State() (any, bool) {
	h.core.mu.Lock()
	store := h.core.store
	h.core.mu.Unlock()
	return store.State()
}

// StateOf returns the last known state decoded into S.
func StateOf[S any](h *Handle) (S, bool, error) {
	h.core.mu.Lock()
	store := h.core.store
	h.core.mu.Unlock()
	return statestore.Typed[S](store)
}
