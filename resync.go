package zocket

import (
	"slices"
	"sync"
)

// Slow subscribers. A connection whose transport is a StateQueuer may
// refuse a state frame when its outbound queue is high; its subscription
// is then stale: it gets no state frames until the queue has drained,
// then the patches since the version it has (from the history), or a
// snapshot. Results and events are never dropped.

// staleSub is what a stale subscriber has: the version of its last state
// frame, or nothing usable (snapshot).
type staleSub struct {
	have     uint64
	snapshot bool
}

// queueState queues a state frame for c; it reports false when c's
// transport refused it (StateQueuer).
func (o *outbox) queueState(app *App, c Connection, frame []byte) bool {
	sq, ok := c.(StateQueuer)
	if !ok {
		o.deliver(app, c, frame)
		return true
	}
	if !sq.QueueState(frame) {
		return false
	}
	o.touch(c.(Flusher))
	return true
}

// stateFrame sends a state frame of version v (snap: a snapshot) to c from
// the mailbox: held for the output gate, or queued in the item's outbox.
func (in *instance) stateFrame(c Connection, frame []byte, v uint64, snap bool) {
	if in.holding {
		in.held = append(in.held, heldOutput{conn: c, frame: frame, state: true, version: v, snap: snap})
		return
	}
	in.stateTo(&in.out, c, frame, v, snap)
}

// stateTo queues a state frame for c through o unless c is stale, and
// makes c stale when its transport refuses the frame. The caller holds no
// lock.
func (in *instance) stateTo(o *outbox, c Connection, frame []byte, v uint64, snap bool) {
	if in.staleN.Load() > 0 {
		in.mu.Lock()
		_, stale := in.stale[c.ID()]
		in.mu.Unlock()
		if stale {
			return
		}
	}
	if o.queueState(in.app, c, frame) {
		return
	}
	in.mu.Lock()
	in.markStaleLocked(c, v, snap)
	in.mu.Unlock()
	in.armResync(c)
}

// markStaleLocked records that c refused the state frame of version v.
// The caller holds in.mu.
func (in *instance) markStaleLocked(c Connection, v uint64, snap bool) {
	if _, ok := in.stale[c.ID()]; ok {
		return
	}
	if in.stale == nil {
		in.stale = map[string]staleSub{}
	}
	in.stale[c.ID()] = staleSub{have: v - 1, snapshot: snap || v == 0}
	in.staleN.Add(1)
	in.app.log.Info("zocket: slow subscriber: state frames held back until its queue drains",
		"clientId", c.ID(), "actor", in.key.actor, "actorId", in.key.id, "version", v-1)
}

// armResync asks c's transport to tell when its queue drained, then
// brings c up to date through the mailbox. The caller holds no lock.
// The transport may call back from inside a send, while the App holds an
// instance's lock: the callback only hands the work to the App's
// resyncer, which queues it.
func (in *instance) armResync(c Connection) {
	r := &in.app.resyncer
	c.(StateQueuer).OnDrained(func() { r.add(in, c) })
}

// resyncer queues the resyncs of drained subscribers in their instances'
// mailboxes. Like a mailbox it has a goroutine only while it has work:
// add starts one when none runs, and it exits when nothing is pending.
// The App owns it: Close stops new work and waits for the last one.
type resyncer struct {
	app *App
	wg  sync.WaitGroup

	mu      sync.Mutex
	pending []drained
	running bool
	closed  bool
}

type drained struct {
	in *instance
	c  Connection
}

// add hands over a drained subscriber; it takes only the resyncer's lock.
func (r *resyncer) add(in *instance, c Connection) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.pending = append(r.pending, drained{in, c})
	if !r.running {
		r.running = true
		r.wg.Add(1) // under mu, before closed: never after wait began
		go r.run()
	}
}

func (r *resyncer) run() {
	defer r.wg.Done()
	for {
		r.mu.Lock()
		batch := r.pending
		r.pending = nil
		if len(batch) == 0 {
			r.running = false
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
		for _, d := range batch {
			in, c := d.in, d.c
			in.mu.Lock()
			if !in.closing {
				in.pushFunc(func() { in.resync(c) })
			}
			in.mu.Unlock()
		}
	}
}

// wait refuses new work and waits for the running goroutine, if any.
func (r *resyncer) wait() {
	r.mu.Lock()
	r.closed, r.pending = true, nil
	r.mu.Unlock()
	r.wg.Wait()
}

// resync sends a stale subscriber what it missed: the patches after the
// version it has, or a snapshot. Mailbox only.
func (in *instance) resync(c Connection) {
	id := c.ID()
	in.mu.Lock()
	st, ok := in.stale[id]
	if !ok {
		in.mu.Unlock()
		return
	}
	in.forgetStaleLocked(id)
	if !slices.ContainsFunc(in.stateSubs, func(s Connection) bool { return s == c }) {
		in.mu.Unlock()
		return // unsubscribed or closed meanwhile
	}
	var frames [][]byte
	_, versioned := in.versions[id]
	snap := st.snapshot || !versioned
	if !snap {
		frames, ok = in.resumeFramesLocked(st.have, in.epoch)
		snap = !ok
	}
	if snap {
		frame, err := in.snapshotLocked()
		if err != nil {
			in.mu.Unlock()
			return
		}
		if versioned {
			frame = in.versioned(frame, in.version)
		}
		frames = [][]byte{frame}
	}
	v := in.version
	in.mu.Unlock()
	for i, f := range frames {
		fv := v
		if !snap {
			fv = v - uint64(len(frames)-1-i)
		}
		in.stateFrame(c, f, fv, snap)
	}
}

// forgetStaleLocked drops c's stale mark (it unsubscribed or closed). The
// caller holds in.mu.
func (in *instance) forgetStaleLocked(id string) {
	if _, ok := in.stale[id]; ok {
		delete(in.stale, id)
		in.staleN.Add(-1)
	}
}

// restartStaleLocked makes every stale subscriber get a snapshot when it
// drains: the version it has no longer names a state of the instance
// (Forget started a new history; a reload took back versions that a new
// commit numbers again). The caller holds in.mu.
func (in *instance) restartStaleLocked() {
	for id, st := range in.stale {
		st.snapshot = true
		in.stale[id] = st
	}
}
