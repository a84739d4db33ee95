package zocket

import (
	"container/heap"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/zocket-go/zocket/internal/jsonvalue"
)

// AlarmID identifies an alarm of one instance, for CancelAlarm.
type AlarmID uint64

// alarmOp is a change to an instance's alarms that a call makes; it
// applies when the call commits.
type alarmOp struct {
	set    Alarm  // when cancel is 0
	cancel uint64 // the id of the alarm to remove
}

// At schedules a call of this method on the calling instance at time t,
// with input in, stored with the instance: unlike After, the alarm
// survives passivation and restarts, and wakes the instance when it falls
// due. Like every side effect of a call it exists only once the call
// commits (and, with Gated durability, once that commit is stored).
//
// Delivery is at least once: the alarm is removed by the commit of the
// call it triggers, so a crash before that commit runs it again after the
// restart. A call that fails is not retried (its error is logged).
// Alarms need a durable actor type (WithStorage); on an ephemeral instance
// At logs an error and schedules nothing.
func (m *MethodDef[S, C, I, O]) At(from ActorContext, t time.Time, in I) AlarmID {
	sc := from.turn()
	inst := sc.inst
	if inst.dur == nil {
		inst.app.log.Error("zocket: alarm on an ephemeral instance dropped (alarms need WithStorage)",
			"actor", inst.key.actor, "actorId", inst.key.id, "method", m.name)
		return 0
	}
	if sc.closed {
		inst.app.log.Warn("zocket: alarm scheduled after its handler returned; dropped", "method", m.name)
		return 0
	}
	a := Alarm{At: t, Method: m.name}
	if m.hasInput {
		b, err := jsonvalue.Marshal(in)
		if err != nil {
			inst.app.log.Error("zocket: alarm input not encodable; alarm dropped", "method", m.name, "err", err)
			return 0
		}
		a.Input = b
	}
	inst.dur.nextAlarm++
	a.ID = inst.dur.nextAlarm
	sc.addAlarmOp(alarmOp{set: a})
	return AlarmID(a.ID)
}

// CancelAlarm removes an alarm of the calling instance when the call
// commits; it reports whether the alarm was pending.
func CancelAlarm(from ActorContext, id AlarmID) bool {
	sc := from.turn()
	d := sc.inst.dur
	if d == nil {
		return false
	}
	if sc.alarms != nil {
		ops := *sc.alarms
		for i, op := range ops {
			if op.cancel == 0 && op.set.ID == uint64(id) {
				*sc.alarms = slices.Delete(ops, i, i+1)
				return true
			}
		}
	}
	sc.inst.mu.Lock()
	found := slices.ContainsFunc(d.alarms, func(a Alarm) bool { return a.ID == uint64(id) })
	sc.inst.mu.Unlock()
	if found {
		sc.addAlarmOp(alarmOp{cancel: uint64(id)})
	}
	return found
}

// Alarms returns the pending alarms of the calling instance.
func Alarms(from ActorContext) []Alarm {
	sc := from.turn()
	if sc.inst.dur == nil {
		return nil
	}
	sc.inst.mu.Lock()
	defer sc.inst.mu.Unlock()
	return slices.Clone(sc.inst.dur.alarms)
}

// setAlarms applies a committed call's alarm changes, for the next write
// and the App's schedule. Mailbox only.
func (in *instance) setAlarms(ops []alarmOp) {
	d := in.dur
	in.mu.Lock()
	next := slices.Clone(d.alarms)
	in.mu.Unlock()
	for _, op := range ops {
		if op.cancel != 0 {
			next = slices.DeleteFunc(next, func(a Alarm) bool { return a.ID == op.cancel })
			continue
		}
		next = append(next, op.set)
	}
	in.mu.Lock()
	d.alarms = next
	d.setAlarms = true
	d.alarmsTouched = true
	in.app.committer.addLocked(in)
	in.mu.Unlock()
	in.app.alarms.track(in.key, next, time.Time{})
}

// alarmClock wakes instances whose alarms fall due: one timer for the
// earliest alarm of all instances, live or passivated. It learns the
// stored alarms from the Storage when the App starts, and each instance's
// alarms when they change.
type alarmClock struct {
	app *App

	mu     sync.Mutex
	byKey  map[key]map[uint64]time.Time
	live   int // the alarms in byKey; the queue's other entries are dead
	queue  alarmHeap
	timer  *time.Timer
	closed bool
	// Until the stored alarms are loaded (seed), the keys whose instances
	// told their alarms since: the stored list is older for them.
	seeded bool
	newer  map[key]struct{}
}

type alarmEntry struct {
	at time.Time
	k  key
	id uint64
}

type alarmHeap []alarmEntry

func (h alarmHeap) Len() int           { return len(h) }
func (h alarmHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h alarmHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *alarmHeap) Push(x any)        { *h = append(*h, x.(alarmEntry)) }
func (h *alarmHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// alarmRetry is how long an alarm that could not run waits before
// another attempt.
const alarmRetry = time.Second

// track replaces what the clock knows of k's alarms with those of its
// instance. Alarms due before from ring at from: an instance reloading
// after a failed write postpones them, so that an alarm whose call cannot
// be stored does not come back at once for as long as the Storage fails.
func (c *alarmClock) track(k key, alarms []Alarm, from time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if !c.seeded {
		if c.newer == nil {
			c.newer = map[key]struct{}{}
		}
		c.newer[k] = struct{}{}
	}
	c.trackLocked(k, alarms, from)
}

// seed gives the clock the stored alarms, read when the App started,
// except those of instances that told theirs since.
func (c *alarmClock) seed(list []InstanceAlarms) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seeded = true
	if c.closed {
		return
	}
	for _, ia := range list {
		k := key{ia.Actor, ia.ID}
		if _, newer := c.newer[k]; !newer {
			c.trackLocked(k, ia.Alarms, time.Time{})
		}
	}
	c.newer = nil
}

// adopt schedules the alarms of list's instances for which take is true,
// replacing what the clock knew of them.
func (c *alarmClock) adopt(list []InstanceAlarms, take func(key) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	for _, ia := range list {
		if k := (key{ia.Actor, ia.ID}); take(k) {
			c.trackLocked(k, ia.Alarms, time.Time{})
		}
	}
}

// untrack forgets k's alarms.
func (c *alarmClock) untrack(k key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.live -= len(c.byKey[k])
	delete(c.byKey, k)
}

// trackLocked replaces what the clock knows of k's alarms, those due
// before from at from. The caller holds c.mu.
func (c *alarmClock) trackLocked(k key, alarms []Alarm, from time.Time) {
	c.live -= len(c.byKey[k])
	if len(alarms) == 0 {
		delete(c.byKey, k)
		return
	}
	if c.byKey == nil {
		c.byKey = map[key]map[uint64]time.Time{}
	}
	m := make(map[uint64]time.Time, len(alarms))
	for _, a := range alarms {
		at := a.At
		if at.Before(from) {
			at = from
		}
		m[a.ID] = at
		if old, ok := c.byKey[k][a.ID]; !ok || !old.Equal(at) {
			heap.Push(&c.queue, alarmEntry{at: at, k: k, id: a.ID})
		}
	}
	c.byKey[k] = m
	c.live += len(m)
	c.armLocked()
}

// armLocked sets the timer for the earliest live entry. Dead entries
// (alarms cancelled or moved) leave the queue when they reach its head,
// or all at once when they outnumber the live ones: an alarm moved at
// every call, behind an earlier one, would otherwise leave an entry per
// move until its old time.
func (c *alarmClock) armLocked() {
	if c.queue.Len() > 2*c.live+64 {
		c.queue = slices.DeleteFunc(c.queue, func(e alarmEntry) bool { return !c.liveLocked(e) })
		heap.Init(&c.queue)
	}
	for c.queue.Len() > 0 && !c.liveLocked(c.queue[0]) {
		heap.Pop(&c.queue) // cancelled or rescheduled
	}
	if c.queue.Len() == 0 {
		if c.timer != nil {
			c.timer.Stop()
		}
		return
	}
	d := time.Until(c.queue[0].at)
	if c.timer == nil {
		c.timer = time.AfterFunc(d, c.fire)
		return
	}
	c.timer.Reset(d)
}

func (c *alarmClock) liveLocked(e alarmEntry) bool {
	at, ok := c.byKey[e.k][e.id]
	return ok && at.Equal(e.at)
}

// fire wakes the instances of every alarm due.
func (c *alarmClock) fire() {
	now := time.Now()
	var due []alarmEntry
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	for c.queue.Len() > 0 && !c.queue[0].at.After(now) {
		e := heap.Pop(&c.queue).(alarmEntry)
		if c.liveLocked(e) {
			due = append(due, e)
		}
	}
	c.armLocked()
	c.mu.Unlock()
	for _, e := range due {
		c.app.wakeForAlarm(e.k, e.id)
	}
}

// retry schedules another attempt at an alarm whose actor type is not
// registered yet (the App's alarms load before registration may finish).
func (c *alarmClock) retry(e alarmEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || !c.liveLocked(e) {
		return
	}
	e.at = time.Now().Add(alarmRetry)
	c.byKey[e.k][e.id] = e.at
	heap.Push(&c.queue, e)
	c.armLocked()
}

func (c *alarmClock) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.timer != nil {
		c.timer.Stop()
	}
}

// wakeForAlarm queues the call of alarm id on instance k, activating it
// when it is passivated.
func (a *App) wakeForAlarm(k key, id uint64) {
	if a.lookup(k) == nil && !a.local(k) {
		a.alarms.untrack(k) // its host fires it
		return
	}
	at, ok := a.actor(k.actor)
	if !ok {
		a.alarms.retry(alarmEntry{k: k, id: id})
		return
	}
	if err := a.withInstance(k, at, func(in *instance) {
		item := &callItem{internal: true, alarm: id, info: callInfo{actor: k.actor, actorID: k.id}}
		item.sc = newTurn(a.ctx, in)
		in.pushLocked(work{call: item})
	}); err != nil && !errors.Is(err, ErrClosed) {
		a.log.Warn("zocket: alarm cannot wake its instance; trying again", "actor", k.actor, "actorId", k.id, "err", err)
		a.alarms.retry(alarmEntry{k: k, id: id})
	}
}

// dropAlarm removes an alarm whose call failed, in a commit of its own.
// Mailbox only.
func (in *instance) dropAlarm(id uint64) {
	in.setAlarms([]alarmOp{{cancel: id}})
	in.sendEmptyPatch(in.logCommit([]byte("[]"), in.state))
}

// alarmCall prepares a call item woken by an alarm: its method and input
// from the stored alarm, and the alarm's removal on commit. It reports
// false when the alarm is gone (cancelled, or run already). Mailbox only.
func (in *instance) alarmCall(item *callItem) bool {
	if in.dur == nil {
		return false
	}
	in.mu.Lock()
	i := slices.IndexFunc(in.dur.alarms, func(a Alarm) bool { return a.ID == item.alarm })
	var a Alarm
	if i >= 0 {
		a = in.dur.alarms[i]
	}
	in.mu.Unlock()
	if i < 0 || a.At.After(time.Now()) {
		return false
	}
	item.method, item.input = a.Method, a.Input
	item.info.method = a.Method
	item.sc.addAlarmOp(alarmOp{cancel: a.ID})
	return true
}

// loadAlarms gives the alarm clock the stored alarms when the App starts,
// trying again every second while the Storage fails, until Close.
func (a *App) loadAlarms() {
	defer a.bg.Done()
	for {
		list, err := a.storage.Alarms(a.hookCtx)
		if err == nil {
			a.alarms.seed(list)
			return
		}
		a.log.Error("zocket: cannot load the stored alarms; trying again", "err", err)
		select {
		case <-a.ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}
