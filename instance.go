package zocket

import (
	"fmt"
	"reflect"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zocket-go/zocket/internal/jsonvalue"
	"github.com/zocket-go/zocket/protocol"
)

// minSnapshotSwap is the patch size below which a patch is always sent,
// even when it outweighs a tiny state: clients expect patches for ordinary
// changes (one patch per state-changing call).
const minSnapshotSwap = 1024

// key addresses an instance by the pair itself, never a joined string.
type key struct{ actor, id string }

// instance is one live actor: committed state, subscribers, known
// connections and a mailbox. The mailbox has a goroutine only while it has
// work: enqueue starts one when the queue was idle; it exits when empty.
type instance struct {
	app  *App
	key  key
	kind actorType

	mu        sync.Mutex
	queue     []work // pending items are queue[head:]
	head      int
	running   bool
	state     reflect.Value // *S, committed; written only by the mailbox
	stateSize int           // bytes of the last full encoding of state
	activated bool
	closing   bool
	stateSubs []Connection        // copy-on-write, in subscription order
	waitSubs  map[waitKey]waitSub // subscriptions queued in the mailbox (subscribe.go)
	eventSubs []Connection        // copy-on-write, in subscription order
	known     map[string]Connection
	connCtx   map[string]connCtx // known connections' middleware contexts (conndata.go)
	timers    map[TimerID]*instanceTimer
	timerSeq  uint64
	version   uint64 // one more per state change (durable.go keeps it across activations)
	epoch     string // names the history the versions belong to (history.go)
	hist      history
	tracking  bool                // diff every commit: it has had state subscribers (history.go)
	versions  map[string]struct{} // state subscribers that asked for versions; copy-on-write
	stale     map[string]staleSub // slow subscribers waiting for a resync (resync.go)
	staleN    atomic.Int32        // len(stale), read without mu

	// Durable instances only (durable.go); nil for ephemeral ones. gone
	// closes when the instance, taken out of the App, wrote its last
	// changes (App.departing).
	dur  *durable
	gone chan struct{}
	// sessions are those of the connections that interacted with the
	// instance (handler.go), which forget it when it leaves the App.
	sessions map[*session]struct{}
	// lastUse is the App's idle tick at the instance's last use, and
	// lastSeq the App's count of uses then (only WithMaxInstances counts
	// them, to evict the least recently used): passivate.go. Guarded by mu.
	lastUse uint64
	lastSeq uint64

	// Mailbox only: the reused patch buffer; the frames of the current
	// item; whether they are held for the output gate (gate.go).
	patch   jsonvalue.Patch
	spare   reflect.Value // *S no longer in use: a draft's memory to reuse
	out     outbox
	holding bool
	held    []heldOutput
	slow    slowWatch
}

// outbox collects the frames one item (or one release of held outputs)
// queues: the connections written to, woken once at the end, and the
// caller whose rpc:result is among them.
type outbox struct {
	touched    []Flusher
	touchedSet map[Flusher]struct{}
	owed       Flusher
}

// deliver queues frame for c. Connections that are Flushers are only
// woken at the end (flushTouched), once each, so a subscriber's patch and
// events leave in one write. It reports whether the frame was queued.
func (o *outbox) deliver(app *App, c Connection, frame []byte) (queued bool) {
	f, ok := c.(Flusher)
	if !ok {
		if err := c.Send(frame); err != nil {
			app.log.Debug("zocket: send failed", "clientId", c.ID(), "err", err)
		}
		return false
	}
	if err := f.Queue(frame); err != nil {
		app.log.Debug("zocket: send failed", "clientId", c.ID(), "err", err)
		return false
	}
	o.touch(f)
	return true
}

// touch records that f has frames queued by this outbox.
func (o *outbox) touch(f Flusher) {
	if o.touchedSet == nil {
		o.touchedSet = map[Flusher]struct{}{}
	}
	if _, seen := o.touchedSet[f]; !seen {
		o.touchedSet[f] = struct{}{}
		o.touched = append(o.touched, f)
	}
}

// flushAll gets every touched connection's frames moving, the owed caller
// first, and empties the outbox.
func (o *outbox) flushAll() {
	if o.owed != nil {
		flushNow(o.owed)
	}
	for _, f := range o.touched {
		if f != o.owed {
			flushNow(f)
		}
	}
	o.reset()
}

func (o *outbox) reset() {
	o.owed = nil
	clear(o.touched)
	o.touched = o.touched[:0]
	clear(o.touchedSet)
}

// work is one mailbox item: a method call, or any other function
// (activation, hooks, deactivation).
type work struct {
	call *callItem
	fn   func()
}

// pushLocked appends an item and starts the mailbox goroutine if it was
// idle. The caller holds in.mu.
func (in *instance) pushLocked(w work) {
	if w.call != nil && in.app.obs != nil {
		w.call.enqueued = time.Now() // for CallInfo.Queued
	}
	in.usedLocked()
	in.queue = append(in.queue, w)
	if !in.running {
		in.running = true
		in.app.wg.Add(1)
		go in.drain()
	}
}

// pushFunc is pushLocked for a function item.
func (in *instance) pushFunc(fn func()) { in.pushLocked(work{fn: fn}) }

// drain runs queued items until the queue is empty. It owns the mailbox
// (in.running) and one count of app.wg, which it gives back when it returns.
func (in *instance) drain() {
	defer in.app.wg.Done()
	for {
		in.mu.Lock()
		if in.head == len(in.queue) {
			in.releaseLocked()
			in.mu.Unlock()
			return
		}
		w := in.queue[in.head]
		in.queue[in.head] = work{}
		in.head++
		in.mu.Unlock()
		if in.run(w) {
			return
		}
	}
}

// run executes one item and wakes the connections it wrote to; it reports
// whether flushTouched released the mailbox. A panic here is a bug of
// zocket or of a transport (handlers' panics are caught earlier): it is
// logged, a call still gets its one answer ("Internal error"), and the
// mailbox goes on rather than staying wedged.
func (in *instance) run(w work) (released bool) {
	defer func() {
		if r := recover(); r != nil {
			in.app.log.Error("zocket: internal error in mailbox", "actor", in.key.actor,
				"actorId", in.key.id, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			in.out.reset()
			in.sealAbandoned()
			released = w.call != nil && in.answerAbandoned(w.call)
		}
	}()
	in.holding = in.gated()
	if w.call == nil {
		w.fn()
		in.endHolding()
		in.flushTouched(false)
		return false
	}
	in.watchBegin(w.call)
	defer in.watchEnd()
	in.kind.call(in, w.call)
	in.endHolding()
	return in.flushTouched(w.call.lent)
}

// sealAbandoned seals what an item that panicked held, and sends what
// may leave now: changes it committed are written, and their outputs go
// with them. Should even that fail, they are dropped.
func (in *instance) sealAbandoned() {
	in.holding = false
	defer func() {
		if r := recover(); r != nil {
			in.app.log.Error("zocket: outputs of a failed item dropped", "actor", in.key.actor,
				"actorId", in.key.id, "panic", fmt.Sprint(r))
			in.held = nil
			in.out.reset()
		}
	}()
	in.seal()
	in.out.flushAll()
}

// answerAbandoned answers a call that failed inside the mailbox with
// "Internal error", unless it was answered already. Should even that fail,
// the failure is logged and the mailbox goes on.
func (in *instance) answerAbandoned(it *callItem) (released bool) {
	if it.answered {
		return false
	}
	defer func() {
		if r := recover(); r != nil {
			in.app.log.Error("zocket: cannot answer a failed call", "actor", in.key.actor,
				"actorId", in.key.id, "method", it.method, "panic", fmt.Sprint(r))
			in.out.reset()
			released = false
		}
	}()
	it.reply(nil, errInternal)
	return in.flushTouched(it.lent)
}

// settle marks the call answered and gives its place back to the caller's
// in-flight count (reply calls it first).
func (it *callItem) settle() {
	if it.answered {
		return
	}
	it.answered = true
	if it.sess != nil {
		it.sess.inflight.Add(-1)
	}
}

// claimIdleLocked takes the mailbox for an inline run when the instance is
// activated and has nothing queued or running. The caller holds in.mu.
func (in *instance) claimIdleLocked() bool {
	if in.running || !in.activated || in.head != len(in.queue) {
		return false
	}
	in.running = true
	in.usedLocked()
	in.app.wg.Add(1)
	return true
}

// runClaimed runs w on the calling goroutine after claimIdleLocked, then
// hands any work queued meanwhile to a mailbox goroutine. The caller's
// answer is left queued: the transport that lent its goroutine writes it
// (Handler.Dispatch).
func (in *instance) runClaimed(w work) {
	w.call.lent = true
	if in.run(w) {
		in.app.wg.Done()
		return
	}
	in.mu.Lock()
	if in.head == len(in.queue) {
		in.releaseLocked()
		in.mu.Unlock()
		in.app.wg.Done()
		return
	}
	in.mu.Unlock()
	go in.drain() // inherits the mailbox and the wg count
}

// deliver queues frame for c in the current item's outbox, or holds it
// for the output gate (gate.go). Mailbox only.
func (in *instance) deliver(c Connection, frame []byte) (queued bool) {
	if in.holding {
		in.held = append(in.held, heldOutput{conn: c, frame: frame})
		return false
	}
	return in.out.deliver(in.app, c, frame)
}

// flushTouched wakes the writers of the connections the finished item
// queued frames for. When the caller's result is the only frame and the
// mailbox has nothing more to do, the instance is released and this
// goroutine writes the result itself instead of waking a writer (which
// saves a goroutine hand-off per call); it then reports true and the
// goroutine must exit. The caller is always woken first, so its result
// never waits for a fan-out.
func (in *instance) flushTouched(lent bool) (released bool) {
	owed := in.out.owed
	in.out.owed = nil
	if owed == nil && len(in.out.touched) == 0 {
		return false
	}
	if lent {
		// The transport that lent its goroutine writes the caller's
		// answer when the call returns (batching pipelined answers). With
		// a fan-out, the answer goes first, so it never waits for it.
		if owed != nil && !(len(in.out.touched) == 1 && in.out.touched[0] == owed) {
			owed.Flush(true)
		}
		for _, f := range in.out.touched {
			if f != owed {
				flushNow(f)
			}
		}
		in.out.reset()
		return false
	}
	alone := owed != nil && len(in.out.touched) == 1 && in.out.touched[0] == owed
	in.mu.Lock()
	idle := in.head == len(in.queue)
	if alone && idle {
		in.out.reset() // before the release: the next owner reuses it
		in.releaseLocked()
	}
	in.mu.Unlock()
	if alone && idle {
		owed.Flush(true)
		return true
	}
	// With more work queued, writers are woken and batch this item's
	// frames with the next ones'; with none, write now where possible.
	wake := func(f Flusher) {
		if idle {
			flushNow(f)
		} else {
			f.Flush(false)
		}
	}
	if owed != nil {
		wake(owed)
	}
	for _, f := range in.out.touched {
		if f != owed {
			wake(f)
		}
	}
	in.out.reset()
	return false
}

// flushNow gets f's queued frames moving without blocking this goroutine:
// written at once where the transport can (TryFlusher), else by its writer.
func flushNow(f Flusher) {
	if t, ok := f.(TryFlusher); ok {
		t.TryFlush()
		return
	}
	f.Flush(false)
}

// releaseLocked marks the mailbox idle; the next push starts a goroutine.
func (in *instance) releaseLocked() {
	in.running = false
	clear(in.queue)
	in.queue, in.head = in.queue[:0], 0
}

// trackLocked marks conn as known; it reports whether this is its first
// interaction. The caller holds in.mu.
func (in *instance) trackLocked(c Connection) bool {
	if _, ok := in.known[c.ID()]; ok {
		return false
	}
	in.known[c.ID()] = c
	return true
}

func (in *instance) clients() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	ids := make([]string, 0, len(in.known))
	for id := range in.known {
		ids = append(ids, id)
	}
	return ids
}

func (in *instance) snapshotLocked() ([]byte, error) {
	frame := protocol.AppendSnapshot(make([]byte, 0, in.stateSize+64), in.key.actor, in.key.id, nil)
	frame = frame[:len(frame)-len("null}")]
	start := len(frame)
	frame, err := in.kind.stateType().Append(frame, in.state.Elem())
	if err != nil {
		return nil, err
	}
	in.stateSize = len(frame) - start
	return append(frame, '}'), nil
}

// versioned returns a copy of a state frame (as snapshotLocked or
// plainPatch build it) with its version and the instance's epoch, for the
// subscribers that asked for versions.
func (in *instance) versioned(frame []byte, v uint64) []byte {
	out := make([]byte, len(frame), len(frame)+48)
	copy(out, frame)
	return protocol.AppendVersion(out, v, in.epoch)
}

// snapshot encodes the committed state as a state:snapshot, or logs and
// returns nil.
func (in *instance) snapshot() []byte {
	in.mu.Lock()
	defer in.mu.Unlock()
	frame, err := in.snapshotLocked()
	if err != nil {
		in.app.log.Error("zocket: cannot encode state", "actor", in.key.actor, "actorId", in.key.id, "err", err)
		return nil
	}
	return frame
}

func (in *instance) send(c Connection, frame []byte) {
	if err := c.Send(frame); err != nil {
		in.app.log.Debug("zocket: send failed", "clientId", c.ID(), "err", err)
	}
}

// transact runs fn against a deep copy of the committed state. If fn
// succeeds the copy is committed, its patch broadcast to the state
// subscribers and its events dispatched; if fn fails or panics nothing
// changes. broadcast=false commits silently (onDeactivate).
func (in *instance) transact(sc *turn, fn func(draft reflect.Value) error) error {
	if in.dur != nil {
		in.mu.Lock()
		err := in.loadErrorLocked()
		in.mu.Unlock()
		if err != nil {
			sc.closed = true
			return err
		}
	}
	draft := reflect.New(in.state.Type().Elem())
	if in.spare.IsValid() {
		jsonvalue.Recycle(draft.Elem(), in.state.Elem(), in.spare.Elem())
		in.spare = reflect.Value{}
	} else {
		jsonvalue.Clone(draft.Elem(), in.state.Elem())
	}
	err := in.protect(func() error { return fn(draft) })
	sc.closed = true
	if err != nil {
		in.spare = draft
		return err
	}
	if in.dur != nil && sc.alarms != nil && len(*sc.alarms) > 0 {
		in.setAlarms(*sc.alarms) // before the commit: its write carries them
	}
	in.spare = in.commitCall(sc, draft)
	in.dispatch(sc.events)
	if timers := sc.timers; len(timers) > 0 {
		in.holdOrRun(func() { in.startTimers(timers) })
	}
	if tells := sc.tells; len(tells) > 0 {
		in.holdOrRun(func() { in.app.sendTells(tells) })
	}
	return nil
}

// protect turns a panic into an ErrPanic CallError and logs its stack.
func (in *instance) protect(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			in.app.log.Error("zocket: handler panicked", "actor", in.key.actor, "actorId", in.key.id,
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = &CallError{Message: "Unknown error", Kind: ErrPanic}
		}
	}()
	return fn()
}

// commit makes draft the state, broadcasts the patch, records it for
// storage when the instance is durable and in the history when someone
// may resume, and returns the replaced state, whose memory the next draft
// may reuse. The state, its version and the subscribers told of it change
// together under in.mu (advance): a subscriber that comes meanwhile gets
// either the old state and then this patch, or the new state and not it.
func (in *instance) commit(draft reflect.Value) (old reflect.Value) {
	old = in.state // written only by the mailbox
	in.mu.Lock()
	size := in.stateSize
	if in.dur == nil && !in.tracking {
		// Nobody ever watched: no diff, no encoding, and the version
		// moves on without a history (which the first subscriber starts).
		in.state = draft
		in.version++
		in.mu.Unlock()
		return old
	}
	in.mu.Unlock()
	p := &in.patch
	p.Reset()
	var frame []byte
	snap := false
	var pub published
	if err := in.kind.stateType().Diff(p, old.Elem(), draft.Elem()); err != nil {
		in.app.log.Error("zocket: cannot encode state patch; sending a snapshot", "actor", in.key.actor,
			"actorId", in.key.id, "err", err)
		if pub = in.advance(draft, nil); len(pub.subs) == 0 {
			return old
		}
		if frame = in.snapshot(); frame == nil {
			return old
		}
		snap = true
	} else if p.Len() == 0 {
		if in.dur != nil && in.dur.alarmsTouched {
			// The alarms changed: a version of its own, an empty patch
			// for the subscribers that count versions.
			in.sendEmptyPatch(in.logCommit([]byte("[]"), draft))
			return old
		}
		in.mu.Lock()
		in.state = draft
		in.mu.Unlock()
		return old
	} else {
		ops := p.JSON()
		if pub = in.advance(draft, ops); len(pub.subs) == 0 {
			return old
		}
		if len(ops) > size && len(ops) > minSnapshotSwap {
			// The patch may outweigh the state (e.g. removing the head of a long
			// list replaces every element): then a fresh snapshot is cheaper.
			if s := in.snapshot(); s != nil && len(s) < len(ops) {
				frame, snap = s, true
			}
		}
		if frame == nil {
			frame = in.plainPatch(ops)
		}
	}
	in.publish(pub, frame, snap)
	if o := in.app.obs; o != nil {
		o.Published(in.key.actor, in.key.id, len(pub.subs), len(pub.subs)*len(frame))
	}
	return old
}

// published is who a commit's state frames go to, and their version,
// taken under in.mu with the commit itself.
type published struct {
	subs     []Connection
	versions map[string]struct{}
	version  uint64
}

func (in *instance) publishedLocked() published {
	return published{subs: in.stateSubs, versions: in.versions, version: in.version}
}

// advance makes state the committed state at the next version, with its
// patch ops in the history (nil: a snapshot replaces the history), and
// returns the subscribers to tell. Mailbox only.
func (in *instance) advance(state reflect.Value, ops []byte) published {
	if in.dur != nil {
		return in.logCommit(ops, state)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.state = state
	in.version++
	if ops != nil {
		in.recordLocked(in.version, append([]byte(nil), ops...))
	} else {
		in.forgetHistoryLocked(in.version)
	}
	return in.publishedLocked()
}

// publish sends a state frame (a patch, or a snapshot when snap) to the
// state subscribers of pub: as it is to plain ones, with pub's version to
// those that asked for versions (one copy for all of them). Mailbox only.
func (in *instance) publish(pub published, frame []byte, snap bool) {
	var withVersion []byte
	for _, c := range pub.subs {
		f := frame
		if _, ok := pub.versions[c.ID()]; ok {
			if withVersion == nil {
				withVersion = in.versioned(frame, pub.version)
			}
			f = withVersion
		}
		in.stateFrame(c, f, pub.version, snap)
	}
}

// sendEmptyPatch sends the versioned subscribers of pub an empty patch of
// its version, which changed nothing but the alarms: their versions stay
// consecutive. Plain subscribers get nothing. Mailbox only.
func (in *instance) sendEmptyPatch(pub published) {
	var frame []byte
	for _, c := range pub.subs {
		if _, ok := pub.versions[c.ID()]; ok {
			if frame == nil {
				frame = in.patchFrame([]byte("[]"), pub.version)
			}
			in.stateFrame(c, frame, pub.version, false)
		}
	}
}

// dispatch sends buffered events in terminal order to the event subscribers
// they target, dropping (and logging) undeclared, invalid or unencodable ones.
func (in *instance) dispatch(events []pendingEvent) {
	for i := range events {
		ev := &events[i]
		decl, ok := in.kind.event(ev.name)
		if !ok {
			in.app.log.Warn("zocket: undeclared event dropped", "actor", in.key.actor, "actorId", in.key.id, "event", ev.name)
			continue
		}
		payload, err := decl.conform(ev.payload)
		if err != nil {
			in.app.log.Warn("zocket: event payload of the wrong shape dropped", "actor", in.key.actor,
				"actorId", in.key.id, "event", ev.name, "err", err)
			continue
		}
		if issues := validateValue(in.app.validate, payload); issues != nil {
			in.app.log.Warn("zocket: invalid event payload dropped", "actor", in.key.actor, "actorId", in.key.id,
				"event", ev.name, "issues", fmt.Sprint(issues))
			continue
		}
		in.mu.Lock()
		subs := in.eventSubs
		in.mu.Unlock()
		if len(subs) == 0 {
			continue
		}
		data, err := jsonvalue.Marshal(payload)
		if err != nil {
			in.app.log.Warn("zocket: unencodable event payload dropped", "actor", in.key.actor, "actorId", in.key.id,
				"event", ev.name, "err", err)
			continue
		}
		frame := protocol.AppendEvent(nil, in.key.actor, in.key.id, ev.name, data)
		for _, c := range subs {
			if ev.reaches(c.ID()) {
				in.deliver(c, frame)
			}
		}
	}
}

// hook runs a lifecycle hook as a transaction; a failure is logged and
// changes nothing (TS would wedge the instance instead).
func (in *instance) hook(name string, c Connection, fn func(*turn, reflect.Value, Connection) error) {
	sc := &turn{base: in.app.hookCtx, inst: in}
	sc.hookConn = c
	if err := in.transact(sc, func(draft reflect.Value) error { return fn(sc, draft, c) }); err != nil {
		attrs := []any{"actor", in.key.actor, "actorId", in.key.id, "hook", name, "err", err}
		if c != nil {
			attrs = append(attrs, "clientId", c.ID())
		}
		in.app.log.Error("zocket: lifecycle hook failed; state unchanged", attrs...)
	}
}
