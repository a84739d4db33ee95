package zocket

import (
	"sync/atomic"
	"time"
)

// slowWatch warns about a call that runs longer than the App's
// WithSlowCallWarning duration: one timer per instance, re-armed for each
// call by the mailbox (begin, end), firing at most once per call.
type slowWatch struct {
	t     *time.Timer // mailbox only
	cur   atomic.Pointer[callItem]
	start atomic.Int64 // cur's start, in Unix nanoseconds
}

// begin arms the watch for it, which the mailbox is about to run.
func (in *instance) watchBegin(it *callItem) {
	d := in.app.slowCall
	if d <= 0 {
		return
	}
	w := &in.slow
	w.start.Store(time.Now().UnixNano())
	w.cur.Store(it)
	if w.t == nil {
		w.t = time.AfterFunc(d, in.warnSlow)
	} else {
		w.t.Reset(d)
	}
}

// watchEnd disarms the watch: the call returned.
func (in *instance) watchEnd() {
	w := &in.slow
	if w.t == nil {
		return
	}
	w.cur.Store(nil)
	w.t.Stop()
}

// warnSlow logs the call still running. A firing left over from a call
// that ended just in time finds another call too young, or none, and says
// nothing.
func (in *instance) warnSlow() {
	w := &in.slow
	it := w.cur.Load()
	if it == nil {
		return
	}
	ran := time.Duration(time.Now().UnixNano() - w.start.Load())
	if ran < in.app.slowCall {
		return
	}
	in.app.log.Warn("zocket: call still running; the instance handles nothing else meanwhile",
		"actor", in.key.actor, "actorId", in.key.id, "method", it.method, "clientId", it.info.clientID,
		"running", ran)
}
