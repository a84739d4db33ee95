package zocket

import (
	"math"
	"sync/atomic"
	"time"
)

// slowWatch warns about a call that runs longer than the App's
// WithSlowCallWarning duration. Its one timer per instance is armed when a
// call begins and none is armed, and re-armed by its own firing while calls
// go on: a call costs two atomic stores and a clock read, not a timer
// operation (they take the runtime's timer lock).
type slowWatch struct {
	t      atomic.Pointer[time.Timer] // created stopped on the first call
	armed  atomic.Bool
	cur    atomic.Pointer[callItem] // the running call; nil between calls
	start  atomic.Int64             // cur's start, in Unix nanoseconds
	warned atomic.Pointer[callItem] // the last call warned about
}

// watchBegin watches it, which the mailbox is about to run.
func (in *instance) watchBegin(it *callItem) {
	d := in.app.slowCall
	if d <= 0 {
		return
	}
	w := &in.slow
	w.start.Store(time.Now().UnixNano())
	w.cur.Store(it) // before arming: a firing that disarmed sees it, or we arm
	if w.armed.CompareAndSwap(false, true) {
		t := w.t.Load()
		if t == nil {
			t = time.AfterFunc(math.MaxInt64, in.warnSlow) // stored before it can fire
			w.t.Store(t)
		}
		t.Reset(d)
	}
}

// watchEnd ends the watch of the call that returned; a pending firing
// finds no call and disarms.
func (in *instance) watchEnd() {
	in.slow.cur.Store(nil)
}

// warnSlow runs when the timer fires: it logs a call that has run for the
// whole duration (once per call), and re-arms for a call that is younger;
// with no call running it stays disarmed until the next call begins.
func (in *instance) warnSlow() {
	w := &in.slow
	w.armed.Store(false) // before reading cur: see watchBegin
	it := w.cur.Load()
	if it == nil || w.warned.Load() == it {
		return
	}
	d := in.app.slowCall
	ran := time.Duration(time.Now().UnixNano() - w.start.Load())
	if ran < d {
		if w.armed.CompareAndSwap(false, true) {
			w.t.Load().Reset(d - ran)
		}
		return
	}
	w.warned.Store(it)
	in.app.log.Warn("zocket: call still running; the instance handles nothing else meanwhile",
		"actor", in.key.actor, "actorId", in.key.id, "method", it.method, "clientId", it.info.clientID,
		"running", ran)
}
