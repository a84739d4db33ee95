package zocket

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/zocket-go/zocket/internal/jsonvalue"
)

// TimerID identifies a timer of one instance, for CancelTimer.
type TimerID uint64

// pendingTimer is a timer a call scheduled; it starts when the call commits.
type pendingTimer struct {
	id     TimerID
	after  time.Duration
	every  bool
	method string
	input  json.RawMessage
	mctx   any
}

// instanceTimer is a running timer.
type instanceTimer struct {
	t      *time.Timer
	pt     pendingTimer
	queued bool // its call waits in the mailbox (guarded by in.mu)
}

// After schedules a call of this method on the calling instance after d,
// with input in (zocket.None{} for none). It returns an id for CancelTimer.
// Like every side effect of a call, the timer starts only when the calling
// method or hook commits; a failed call schedules nothing.
//
// A timer call goes through the mailbox like a client's call, with no
// client id; it skips middleware and sees the scheduling call's middleware
// context (zero when scheduled from a hook). Its state changes are
// broadcast as usual; its error, if any, is logged. All of an instance's
// timers stop when it is destroyed.
func (m *MethodDef[S, C, I, O]) After(from ActorContext, d time.Duration, in I) TimerID {
	return m.schedule(from, d, false, in)
}

// Every is After, repeated every d until cancelled or the instance is
// destroyed. A firing that finds the previous call still waiting in the
// mailbox is skipped, so a slow method never piles up timer calls.
func (m *MethodDef[S, C, I, O]) Every(from ActorContext, d time.Duration, in I) TimerID {
	return m.schedule(from, d, true, in)
}

func (m *MethodDef[S, C, I, O]) schedule(from ActorContext, d time.Duration, every bool, in I) TimerID {
	sc := from.turn()
	pt := pendingTimer{id: sc.inst.nextTimerID(), after: d, every: every, method: m.name, mctx: sc.mctx}
	if m.hasInput {
		b, err := jsonvalue.Marshal(in)
		if err != nil {
			sc.inst.app.log.Error("zocket: timer input not encodable; timer dropped", "method", m.name, "err", err)
			return pt.id
		}
		pt.input = b
	}
	if sc.closed {
		sc.inst.app.log.Warn("zocket: timer scheduled after its handler returned; dropped", "method", m.name)
		return pt.id
	}
	sc.timers = append(sc.timers, pt)
	return pt.id
}

// CancelTimer stops a timer of the calling instance, including one
// scheduled earlier in the same call; it reports whether it was pending.
func CancelTimer(from ActorContext, id TimerID) bool {
	sc := from.turn()
	for i, pt := range sc.timers {
		if pt.id == id {
			sc.timers = append(sc.timers[:i:i], sc.timers[i+1:]...)
			return true
		}
	}
	return sc.inst.cancelTimer(id)
}

func (in *instance) nextTimerID() TimerID {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.timerSeq++
	return TimerID(in.timerSeq)
}

// startTimers starts the timers a committed item scheduled.
func (in *instance) startTimers(pts []pendingTimer) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closing {
		return
	}
	for _, pt := range pts {
		in.armLocked(pt)
	}
}

func (in *instance) armLocked(pt pendingTimer) {
	if in.timers == nil {
		in.timers = map[TimerID]*instanceTimer{}
	}
	it := &instanceTimer{pt: pt}
	it.t = time.AfterFunc(pt.after, func() { in.fire(it) })
	in.timers[pt.id] = it
}

// fire queues the timer's call; a repeating timer re-arms.
func (in *instance) fire(it *instanceTimer) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closing || in.timers[it.pt.id] != it {
		return
	}
	if it.pt.every {
		it.t.Reset(it.pt.after)
		if it.queued {
			return
		}
	} else {
		delete(in.timers, it.pt.id)
	}
	it.queued = true
	item := &callItem{method: it.pt.method, input: it.pt.input, internal: true, preset: it.pt.mctx, timer: it,
		info: callInfo{actor: in.key.actor, actorID: in.key.id, method: it.pt.method}}
	item.sc = newTurn(in.app.ctx, in)
	in.pushLocked(work{call: item})
}

func (in *instance) cancelTimer(id TimerID) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	it, ok := in.timers[id]
	if ok {
		it.t.Stop()
		delete(in.timers, id)
	}
	return ok
}

// stopTimersLocked stops every timer (destroy).
func (in *instance) stopTimersLocked() {
	for id, it := range in.timers {
		it.t.Stop()
		delete(in.timers, id)
	}
}

// PendingTimers returns the number of timers waiting to fire on instance
// (actor, id), 0 if it is not live. An instance with timers is not idle.
func (a *App) PendingTimers(actor, id string) int {
	in := a.lookup(key{actor, id})
	if in == nil {
		return 0
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.timers)
}

// cronEntry is a recurring schedule declared on the actor (Actor.Every).
type cronEntry struct {
	every  time.Duration
	method string
}

// Every declares a recurring schedule: the input-less method is called
// every d from activation until the instance is destroyed. Registration
// fails if the method is not declared or takes input.
func (a *Actor[S, C]) Every(d time.Duration, method interface {
	Name() string
	HasInput() bool
}) *Actor[S, C] {
	a.cron = append(a.cron, cronEntry{every: d, method: method.Name()})
	return a
}

func (a *compiled[S, C]) checkCron() error {
	for _, e := range a.def.cron {
		m, ok := a.methods[e.method]
		if !ok {
			return fmt.Errorf("cron: method %q is not declared", e.method)
		}
		if d, ok := m.(interface{ HasInput() bool }); ok && d.HasInput() {
			return fmt.Errorf("cron: method %q takes input", e.method)
		}
		if e.every <= 0 {
			return fmt.Errorf("cron: method %q: interval must be positive", e.method)
		}
	}
	return nil
}

// startCron arms the actor's recurring schedules (after activation).
func (in *instance) startCron(entries []cronEntry) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, e := range entries {
		in.timerSeq++
		in.armLocked(pendingTimer{id: TimerID(in.timerSeq), after: e.every, every: true, method: e.method})
	}
}
