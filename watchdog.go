package zocket

import (
	"math"
	"sync/atomic"
	"time"
)

// slowWatch warns about a call that runs longer than the App's
// WithSlowCallWarning duration d. Its one timer per instance ticks every d
// while calls run: a call still running at two ticks in a row has run for
// at least d (and less than 2d) and is reported, once. The timer is armed
// when a call begins and none is armed, and re-armed by its own tick while
// calls go on, so a call costs an atomic add and two atomic stores, not a
// timer operation or a clock read.
type slowWatch struct {
	t      atomic.Pointer[time.Timer] // created stopped on the first call
	armed  atomic.Bool
	seq    atomic.Uint64            // calls begun
	cur    atomic.Pointer[callItem] // the running call; nil between calls
	seen   atomic.Uint64            // seq at the last tick that found a call
	warned atomic.Pointer[callItem] // the last call reported
}

// watchBegin watches it, which the mailbox is about to run.
func (in *instance) watchBegin(it *callItem) {
	d := in.app.slowCall
	if d <= 0 {
		return
	}
	w := &in.slow
	w.seq.Add(1)
	w.cur.Store(it) // before arming: a tick that disarmed sees it, or we arm
	if w.armed.CompareAndSwap(false, true) {
		t := w.t.Load()
		if t == nil {
			t = time.AfterFunc(math.MaxInt64, in.tickSlow) // stored before it can fire
			w.t.Store(t)
		}
		t.Reset(d)
	}
}

// watchEnd ends the watch of the call that returned; the next tick finds
// no call and leaves the timer disarmed.
func (in *instance) watchEnd() {
	in.slow.cur.Store(nil)
}

// tickSlow runs every d while calls run. It reports a call that was
// already running at the previous tick, and re-arms while calls go on.
func (in *instance) tickSlow() {
	w := &in.slow
	w.armed.Store(false) // before reading cur: see watchBegin
	it := w.cur.Load()
	if it == nil || w.warned.Load() == it {
		return
	}
	if s := w.seq.Load(); w.seen.Swap(s) != s {
		if w.armed.CompareAndSwap(false, true) {
			w.t.Load().Reset(in.app.slowCall)
		}
		return
	}
	w.warned.Store(it)
	in.app.log.Warn("zocket: call still running; the instance handles nothing else meanwhile",
		"actor", in.key.actor, "actorId", in.key.id, "method", it.method, "clientId", it.info.clientID,
		"runningFor", "over "+in.app.slowCall.String())
}

// stopWatch stops the watch's timer for good (deactivation), so that it
// does not keep the instance in memory until it fires.
func (in *instance) stopWatch() {
	if t := in.slow.t.Load(); t != nil {
		t.Stop()
	}
}
