package zocket

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/zocket-go/zocket/protocol"
	"github.com/zocket-go/zocket/statestore"
)

// Durability says how an actor type's instances are kept when the App has
// a Storage (WithStorage). Without one every actor type is ephemeral.
type Durability int

const (
	// Gated (the default with a Storage) holds a call's outputs, its
	// rpc:result, patches, events, timers and Tells, until the changes it
	// saw are durable. The next call runs meanwhile, and the writes of many
	// calls and instances go to the Storage together: durability costs
	// latency, not throughput. A call whose result a client received is
	// never lost, and no subscriber sees a state that a crash could undo.
	Gated Durability = iota
	// Relaxed writes behind: outputs leave at once and changes reach the
	// Storage within the App's write-behind delay (WithWriteBehind). A
	// crash loses the changes of at most that delay, including ones whose
	// results clients received.
	Relaxed
	// Ephemeral keeps instances in memory only, as without a Storage (for
	// lobbies, presence, caches).
	Ephemeral
)

// String returns "gated", "relaxed" or "ephemeral".
func (d Durability) String() string {
	switch d {
	case Gated:
		return "gated"
	case Relaxed:
		return "relaxed"
	case Ephemeral:
		return "ephemeral"
	}
	return fmt.Sprintf("Durability(%d)", int(d))
}

// ErrStorage is wrapped by the error of a call whose changes could not be
// made durable (the Storage failed, or another writer changed the
// instance: then the error also wraps ErrConflict), and of a call to an
// instance whose stored state cannot be loaded. The instance goes back to
// its last durable state.
var ErrStorage = errors.New("zocket: storage")

// Durability sets how the actor type's instances are kept when the App has
// a Storage (default Gated). It has no effect without a Storage.
func (a *Actor[S, C]) Durability(d Durability) *Actor[S, C] { a.durability = d; return a }

// minLogBeforeSnapshot is how many bytes of records an instance writes
// before a snapshot may replace them, however small its state.
const minLogBeforeSnapshot = 16 << 10

// durable is the storage side of one durable instance.
type durable struct {
	mode Durability

	// Guarded by in.mu.
	durable       uint64    // the latest version the Storage holds
	snap          *Snapshot // pending: a snapshot to write
	pending       []Record  // pending: records after snap (or durable) to write
	alarms        []Alarm   // the instance's alarms as committed in memory
	setAlarms     bool      // pending: alarms changed since the last write
	alarmsTouched bool      // mailbox: the current commit changed the alarms
	queued        bool      // in the committer's list
	writing       bool      // the committer is writing what it took
	backlog       []heldBatch
	releasing     bool            // the committer is delivering released outputs
	broken        bool            // a write failed; a reload is queued
	brokenBy      error           // why: for the outputs of items that ran on top of it
	waiters       []chan struct{} // closed when nothing is pending any more
	loadErr       error           // the stored state could not be loaded

	// Mailbox only.
	logBytes  int // bytes of records since the last snapshot
	snapBytes int // bytes of the last snapshot
	nextAlarm uint64
	departed  bool // deactivated: a successor may serve the key
	// calls are the answers of the recent calls (callmemory.go);
	// committing is the call the current commit answers, if any.
	calls      callTable
	committing *CallRecord
}

// gated reports whether the instance's outputs wait for durability.
func (in *instance) gated() bool { return in.dur != nil && in.dur.mode == Gated }

// loadErrorLocked is the error every call gets when the instance's stored
// state could not be loaded, nil otherwise. The caller holds in.mu.
func (in *instance) loadErrorLocked() error {
	if in.dur == nil || in.dur.loadErr == nil {
		return nil
	}
	return &CallError{Message: fmt.Sprintf("Cannot load the state of %s/%s", in.key.actor, in.key.id), Kind: in.dur.loadErr}
}

// load reads the instance's stored state into it, replacing the state in
// memory. A fresh instance keeps the state newState gave it. Its alarms
// due before alarmsFrom ring at alarmsFrom (alarmClock.track).
func (in *instance) load(ctx context.Context, alarmsFrom time.Time) error {
	st, err := in.app.storage.Load(ctx, in.key.actor, in.key.id)
	if err != nil {
		return fmt.Errorf("%w: load %s/%s: %w", ErrStorage, in.key.actor, in.key.id, err)
	}
	d := in.dur
	d.loadCalls(in.app.callMemory, &st)
	var state reflect.Value
	size := 0
	switch {
	case st.Version > 0:
		if state, size, err = replay(in.kind, st); err != nil {
			return fmt.Errorf("%w: %s/%s at version %d: %w", ErrStorage, in.key.actor, in.key.id, st.Version, err)
		}
	case in.version == 0:
		return nil // fresh: nothing stored, nothing committed
	default:
		// A reload after the first write failed: nothing is stored, so
		// the instance goes back to its initial state.
		state = in.kind.newState()
	}
	in.mu.Lock()
	in.state = state
	in.version = st.Version
	d.durable = st.Version
	d.alarms = st.Alarms
	if st.Snapshot != nil && st.Snapshot.Epoch != "" {
		in.epoch = st.Snapshot.Epoch
	}
	// The records since the snapshot are the history subscribers resume
	// from, after a restart too.
	in.forgetHistoryLocked(st.Version - uint64(len(st.Records)))
	for _, r := range st.Records {
		in.recordLocked(r.Version, r.Patch)
	}
	in.mu.Unlock()
	d.snapBytes, d.logBytes = size, 0
	for _, r := range st.Records {
		d.logBytes += len(r.Patch)
	}
	for _, a := range st.Alarms {
		d.nextAlarm = max(d.nextAlarm, a.ID)
	}
	in.app.alarms.track(in.key, st.Alarms, alarmsFrom)
	return nil
}

// replay rebuilds a state from its latest snapshot and the records after
// it, then decodes it into the actor's current state type: members the
// type no longer has are dropped, members it gained are zero or set by
// its Defaulter.
func replay(kind actorType, st Stored) (state reflect.Value, snapSize int, err error) {
	doc := statestore.New()
	base := json.RawMessage(`{}`)
	if st.Snapshot != nil {
		base = st.Snapshot.State
		snapSize = len(base)
	}
	if err := doc.ApplySnapshot(base); err != nil {
		return state, 0, fmt.Errorf("snapshot: %w", err)
	}
	for _, r := range st.Records {
		var ops []protocol.Op
		if err := json.Unmarshal(r.Patch, &ops); err != nil {
			return state, 0, fmt.Errorf("record %d: %w", r.Version, err)
		}
		if _, err := doc.ApplyPatch(ops); err != nil {
			return state, 0, fmt.Errorf("record %d: %w", r.Version, err)
		}
	}
	state = kind.zeroState()
	if d, ok := state.Interface().(Defaulter); ok {
		d.SetDefaults()
	}
	if err := json.Unmarshal(doc.JSON(), state.Interface()); err != nil {
		return state, 0, fmt.Errorf("stored state does not decode into %s: %w", state.Type().Elem(), err)
	}
	return state, snapSize, nil
}

// logCommit makes state the committed state of a durable instance at the
// next version, and records it: ops is its patch (nil when a snapshot
// must be written instead). It encodes a snapshot instead of the record
// when the records since the last one outweigh the state, hands the
// instance to the committer, and returns the subscribers to tell, taken
// with the new version. Mailbox only.
func (in *instance) logCommit(ops []byte, state reflect.Value) published {
	d := in.dur
	in.mu.Lock()
	version := in.version + 1
	in.mu.Unlock()
	var snap []byte
	if ops == nil || d.snapBytes == 0 || (d.logBytes+len(ops) > d.snapBytes && d.logBytes+len(ops) > minLogBeforeSnapshot) {
		var err error
		if snap, err = in.kind.stateType().Append(make([]byte, 0, d.snapBytes+64), state.Elem()); err != nil {
			in.app.log.Error("zocket: cannot encode state for storage", "actor", in.key.actor, "actorId", in.key.id, "err", err)
			snap = nil
			if ops == nil {
				in.mu.Lock()
				defer in.mu.Unlock()
				in.state = state
				return published{} // unencodable: nothing to store, nothing to send
			}
		}
	}
	d.alarmsTouched = false
	call := d.takeCommitting()
	var rec []byte
	if ops != nil {
		rec = append([]byte(nil), ops...)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.state = state
	in.version = version
	if rec != nil {
		in.recordLocked(version, rec)
	} else {
		in.forgetHistoryLocked(version)
	}
	pub := in.publishedLocked()
	if d.broken {
		return pub // the instance reloads its durable state next; this commit is lost with the failed ones
	}
	if snap != nil {
		d.pendSnapshot(version, snap, in.epoch)
	} else {
		r := Record{Version: version, Patch: rec}
		if call != nil {
			r.Calls = []CallRecord{*call}
		}
		d.pending = append(d.pending, r)
		d.logBytes += len(rec)
	}
	in.app.committer.addLocked(in)
	return pub
}

// pendSnapshot makes the snapshot state, at version, what the next write
// stores, in place of the records pending: it carries the remembered
// call answers, and the records count again from it. Mailbox only, with
// in.mu held.
func (d *durable) pendSnapshot(version uint64, state []byte, epoch string) {
	d.snap, d.pending = &Snapshot{Version: version, State: state, Epoch: epoch, Calls: d.calls.list()}, nil
	d.snapBytes, d.logBytes = len(state), 0
}

// takeWriteLocked moves what the instance has pending into a Write, or
// reports false when nothing is pending. The caller holds in.mu.
func (in *instance) takeWriteLocked() (Write, bool) {
	d := in.dur
	d.queued = false
	if d.broken {
		// Lost with the failed write (setAlarms may have marked alarms
		// since): the reload brings back what is stored.
		d.snap, d.pending, d.setAlarms = nil, nil, false
		return Write{}, false
	}
	if d.snap == nil && len(d.pending) == 0 && !d.setAlarms {
		return Write{}, false
	}
	w := Write{Actor: in.key.actor, ID: in.key.id, Expect: d.durable, Snapshot: d.snap, Records: d.pending,
		SetAlarms: d.setAlarms, Alarms: d.alarms}
	d.snap, d.pending, d.setAlarms = nil, nil, false
	d.writing = true
	return w, true
}

// written records that w is durable and delivers the outputs it released,
// then wakes the waiters for a flush: a successor of a departing instance
// (App.departing) answers only after the outputs of its predecessor left.
func (in *instance) written(w *Write) {
	in.mu.Lock()
	in.dur.durable = w.Version()
	in.mu.Unlock()
	in.release()
	in.mu.Lock()
	in.dur.writing = false
	in.wakeWaitersLocked()
	in.mu.Unlock()
}

// unwrittenLocked reports whether the instance has changes not yet
// written, or being written. The caller holds in.mu.
func (in *instance) unwrittenLocked() bool {
	d := in.dur
	return d.queued || d.writing || d.snap != nil || len(d.pending) > 0 || d.setAlarms
}

// wakeWaitersLocked wakes the waiters for a flush once nothing is pending.
func (in *instance) wakeWaitersLocked() {
	d := in.dur
	if in.unwrittenLocked() {
		return
	}
	for _, ch := range d.waiters {
		close(ch)
	}
	d.waiters = nil
}

// flushed returns a channel closed when everything the instance committed
// so far was written (or failed). The caller holds in.mu.
func (in *instance) flushedLocked() <-chan struct{} {
	ch := make(chan struct{})
	if !in.unwrittenLocked() {
		close(ch)
		return ch
	}
	d := in.dur
	d.waiters = append(d.waiters, ch)
	return ch
}

// writeFailed handles a Write that the Storage refused: the outputs held
// for versions it did not store fail, what is pending is dropped, and the
// instance reloads its durable state before anything else runs.
func (in *instance) writeFailed(err error) {
	in.app.log.Error("zocket: state not saved; the instance reloads its durable state", "actor", in.key.actor,
		"actorId", in.key.id, "err", err)
	in.mu.Lock()
	d := in.dur
	d.broken, d.brokenBy, d.writing = true, err, false
	failed := d.backlog
	d.backlog = nil
	d.snap, d.pending, d.setAlarms = nil, nil, false
	in.wakeWaitersLocked()
	in.pushFrontLocked(work{fn: in.reload})
	in.mu.Unlock()
	in.failHeld(failed, storageError(err))
}

// storageError is what the callers of a call whose changes were not
// stored receive.
func storageError(err error) error {
	kind := ErrStorage
	if errors.Is(err, ErrConflict) {
		kind = fmt.Errorf("%w: %w", ErrStorage, ErrConflict)
		return &CallError{Message: "State changed elsewhere; not saved", Kind: kind}
	}
	return &CallError{Message: "State not saved: storage failed", Kind: kind}
}

// reload replaces the instance's state with its durable state after a
// failed write, and sends it to the state subscribers as a snapshot. If
// even that fails the instance is given up: it leaves the App, and the
// next message loads it again.
func (in *instance) reload() {
	if in.dur.departed {
		in.retrackStored()
		return
	}
	if err := in.load(in.app.hookCtx, time.Now().Add(alarmRetry)); err != nil {
		in.app.log.Error("zocket: cannot reload the durable state; instance dropped", "actor", in.key.actor,
			"actorId", in.key.id, "err", err)
		in.mu.Lock()
		in.dur.loadErr = err
		in.mu.Unlock()
		in.app.drop(in)
		return
	}
	in.mu.Lock()
	in.dur.broken = false
	in.restartStaleLocked()
	if d := in.dur; d.mode == Relaxed {
		// Subscribers may have seen the lost versions, which the next
		// commits number again: a new epoch tells them apart. It is
		// stored at once, in a snapshot of the version just loaded, so
		// that passivation cannot bring back the old one.
		in.epoch = newEpoch()
		if in.version == 0 {
			// Nothing stored: a later activation draws a new epoch anyway.
		} else if state, err := in.kind.stateType().Append(nil, in.state.Elem()); err == nil {
			d.pendSnapshot(in.version, state, in.epoch)
			in.app.committer.addLocked(in)
		} else {
			d.snapBytes = 0 // the next write is a snapshot, which stores it
		}
	}
	pub := in.publishedLocked()
	frame, err := in.snapshotLocked()
	in.mu.Unlock()
	if err == nil {
		in.publish(pub, frame, true)
	}
}

// retrackStored tells the alarm clock the stored alarms of an instance
// whose last write failed after it left the App: the clock may have
// forgotten one that the write was to remove. A successor serving the key
// knows better: then the stored alarms, maybe older, are ignored.
func (in *instance) retrackStored() {
	a := in.app
	st, err := a.storage.Load(a.hookCtx, in.key.actor, in.key.id)
	if err != nil {
		a.log.Error("zocket: cannot reload the stored alarms", "actor", in.key.actor, "actorId", in.key.id, "err", err)
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, successor := a.departing[in.key]; successor || a.lookup(in.key) != nil {
		return
	}
	a.alarms.track(in.key, st.Alarms, time.Now().Add(alarmRetry))
}

// pushFrontLocked queues w ahead of everything queued. The caller holds
// in.mu.
func (in *instance) pushFrontLocked(w work) {
	if in.head > 0 {
		in.head--
		in.queue[in.head] = w
	} else {
		in.queue = append([]work{w}, in.queue...)
	}
	if !in.running {
		in.running = true
		in.app.wg.Add(1)
		go in.drain()
	}
}
