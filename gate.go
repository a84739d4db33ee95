package zocket

import "encoding/json"

// The output gate. While a mailbox item of a Gated instance runs, what it
// sends is held (instance.holding): frames to connections, the call's
// answer, and the side effects that reach other actors or outlive the
// call (Tells, timers). When the item ends (seal), its outputs leave at once
// if the state they saw is durable already (a read-only call on a
// quiet instance), else they wait in the instance's backlog for the
// committer to store that version (release). The next item runs meanwhile.
// If the write fails, the held answers become errors and the rest is
// dropped (failHeld).

// heldOutput is one output of an item, held until the state it saw is
// durable: a frame for a connection, the call's answer, or a side effect.
type heldOutput struct {
	conn  Connection
	frame []byte
	// A state frame (resync.go): its version, whether it is a snapshot.
	state   bool
	version uint64
	snap    bool

	call   *callItem
	result json.RawMessage
	err    error
	fn     func()
}

// heldBatch is the outputs of one item (or one streaming flush), which
// leave once version is durable.
type heldBatch struct {
	version uint64
	outs    []heldOutput
}

// holdOrRun runs fn now, or holds it with the item's outputs.
func (in *instance) holdOrRun(fn func()) {
	if in.holding {
		in.held = append(in.held, heldOutput{fn: fn})
		return
	}
	fn()
}

// endHolding ends the item's holding and seals its outputs.
func (in *instance) endHolding() {
	if !in.holding {
		return
	}
	in.holding = false
	in.seal()
}

// seal ends a stretch of held outputs (an item, or a streaming flush):
// delivered now through the item's outbox when the state they saw is
// durable and nothing older waits, else queued in the backlog. Mailbox
// only.
func (in *instance) seal() {
	outs := in.held
	in.held = nil
	if len(outs) == 0 {
		return
	}
	in.mu.Lock()
	d := in.dur
	switch {
	case d.broken:
		err := d.brokenBy
		in.mu.Unlock()
		in.failHeld([]heldBatch{{outs: outs}}, storageError(err))
		return
	case len(d.backlog) > 0 || d.releasing || d.durable < in.version:
		d.backlog = append(d.backlog, heldBatch{version: in.version, outs: outs})
		in.mu.Unlock()
		return
	}
	in.mu.Unlock()
	for i := range outs {
		outs[i].deliver(in, &in.out)
	}
}

// deliver sends one held output through o.
func (h *heldOutput) deliver(in *instance, o *outbox) {
	switch {
	case h.call != nil:
		h.call.answer(o, h.result, h.err)
	case h.fn != nil:
		h.fn()
	case h.state:
		in.stateTo(o, h.conn, h.frame, h.version, h.snap)
	default:
		o.deliver(in.app, h.conn, h.frame)
	}
}

// release delivers, in order, the held outputs whose versions are durable.
// The committer calls it after a write; one release runs at a time
// (durable.releasing), so outputs never overtake each other.
func (in *instance) release() {
	var o outbox
	for {
		in.mu.Lock()
		d := in.dur
		n := 0
		for n < len(d.backlog) && d.backlog[n].version <= d.durable {
			n++
		}
		if n == 0 {
			d.releasing = false
			in.mu.Unlock()
			return
		}
		batches := make([]heldBatch, n)
		copy(batches, d.backlog)
		d.backlog = append(d.backlog[:0:0], d.backlog[n:]...)
		d.releasing = true
		in.mu.Unlock()
		for _, b := range batches {
			for i := range b.outs {
				b.outs[i].deliver(in, &o)
			}
		}
		o.flushAll()
	}
}

// failHeld answers the held calls with err and drops the other outputs.
func (in *instance) failHeld(batches []heldBatch, err error) {
	var o outbox
	for _, b := range batches {
		for i := range b.outs {
			if h := &b.outs[i]; h.call != nil {
				h.call.answer(&o, nil, err)
			}
		}
	}
	o.flushAll()
}
