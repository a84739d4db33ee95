package zocket

import (
	"cmp"
	"errors"
	"slices"
	"time"
)

// DefaultIdleTimeout is how long a durable instance stays in memory with
// nothing to do before it is passivated (Actor.IdleTimeout).
const DefaultIdleTimeout = 60 * time.Second

// ErrTooManyInstances is wrapped by the error of a call that needs a new
// instance when the App holds WithMaxInstances of them and none is idle.
var ErrTooManyInstances = errors.New("zocket: too many active actors")

// IdleTimeout sets how long an instance may stay idle before it is
// passivated: it has no subscribers, no queued or running work, no timer
// pending (After, Every) and no output waiting for storage. Passivation
// runs OnDeactivate, writes what is pending and removes the instance from
// memory; the next message for it activates it again (its state loaded
// from the Storage, then OnActivate). Connections that only called it are
// forgotten: their OnDisconnect does not run for it.
//
// Durable actor types (WithStorage) default to DefaultIdleTimeout.
// Ephemeral ones are never passivated unless IdleTimeout is set, since
// passivation loses their state. d ≤ 0 disables passivation.
func (a *Actor[S, C]) IdleTimeout(d time.Duration) *Actor[S, C] {
	a.idleTimeout, a.idleSet = d, true
	return a
}

// WithMaxInstances bounds the App's live instances (≤ 0: no bound, the
// default). Creating one more passivates the least recently used idle
// instances; when none is idle, the message that needed it fails: a call
// with the error "Too many active actors" (ErrTooManyInstances), a
// subscription is ignored and logged.
func WithMaxInstances(n int) Option { return func(a *App) { a.maxInstances = n } }

// idleTicks is how many ticks of the App's idle clock make an instance
// of this type idle long enough; 0: never passivated.
func (a *App) idleTicks(at actorType) uint64 {
	d := at.idleTimeout(a.storage != nil)
	if d <= 0 {
		return 0
	}
	if a.idleTick <= 0 {
		return 1 // the clock is not started yet
	}
	return uint64((d + a.idleTick - 1) / a.idleTick)
}

// startIdleClock starts the idle clock, ticking four times per shortest
// idle timeout of the registered types. The caller holds a.mu.
func (a *App) startIdleClock() {
	shortest := time.Duration(0)
	for _, at := range *a.actors.Load() {
		if d := at.idleTimeout(a.storage != nil); d > 0 && (shortest == 0 || d < shortest) {
			shortest = d
		}
	}
	a.idleTick = max(shortest/4, time.Millisecond)
	a.bg.Add(1)
	go a.reap(a.idleTick)
}

// reap runs the idle clock: every tick it passivates the instances idle
// for their type's timeout. Started by NewApp when some type can be
// passivated, stopped by Close.
func (a *App) reap(tick time.Duration) {
	defer a.bg.Done()
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-a.ctx.Done():
			return
		case <-t.C:
		}
		now := a.ticks.Add(1)
		a.live.Range(func(_, v any) bool {
			in := v.(*instance)
			if n := a.idleTicks(in.kind); n > 0 {
				in.mu.Lock()
				idle := in.idleLocked() && now-in.lastUse >= n
				in.mu.Unlock()
				if idle {
					a.passivate(in)
				}
			}
			return true
		})
	}
}

// idleLocked reports whether the instance has nothing to do and nobody to
// serve. The caller holds in.mu.
func (in *instance) idleLocked() bool {
	if in.running || in.head != len(in.queue) || in.closing || !in.activated ||
		len(in.stateSubs) > 0 || len(in.eventSubs) > 0 || len(in.waitSubs) > 0 || len(in.timers) > 0 {
		return false
	}
	if d := in.dur; d != nil && (len(d.backlog) > 0 || d.releasing || d.broken) {
		return false
	}
	return true
}

// passivate removes an idle instance from the App and deactivates it in
// the background; a message that comes meanwhile creates a new instance,
// whose activation waits until the old one's last changes are written.
func (a *App) passivate(in *instance) {
	a.mu.Lock()
	if a.closed || a.lookup(in.key) != in {
		a.mu.Unlock()
		return
	}
	a.removeLocked(in)
	a.mu.Unlock()
	in.deactivate()
}

// forgetSessions removes the instance from the sessions of the
// connections that interacted with it, so that they do not keep it in
// memory once it is gone.
func (in *instance) forgetSessions() {
	in.mu.Lock()
	sessions := make([]*session, 0, len(in.sessions))
	for s := range in.sessions {
		sessions = append(sessions, s)
	}
	in.sessions = nil
	in.mu.Unlock()
	for _, s := range sessions {
		s.mu.Lock()
		delete(s.instances, in)
		if len(s.instances) == 0 {
			s.instances = nil // a map keeps its size: let it go
		}
		s.mu.Unlock()
	}
}

// usedLocked records a use of the instance, for its idle time and the
// least-recently-used order. The caller holds in.mu.
func (in *instance) usedLocked() {
	in.lastUse = in.app.ticks.Load()
	if in.app.maxInstances > 0 {
		in.lastSeq = in.app.uses.Add(1)
	}
}

// evictLocked makes room when the App is full: it takes the least
// recently used idle instances out of the App, for the caller to
// deactivate (finishEviction) once it has released a.mu. It reports false
// when the App is full and nothing is idle. The caller holds a.mu.
func (a *App) evictLocked() (victims []*instance, ok bool) {
	if a.maxInstances <= 0 || a.count < a.maxInstances {
		return nil, true
	}
	type candidate struct {
		in      *instance
		lastSeq uint64
	}
	var idle []candidate
	a.live.Range(func(_, v any) bool {
		in := v.(*instance)
		in.mu.Lock()
		if in.idleLocked() {
			idle = append(idle, candidate{in, in.lastSeq})
		}
		in.mu.Unlock()
		return true
	})
	if len(idle) == 0 {
		return nil, false
	}
	slices.SortFunc(idle, func(x, y candidate) int { return cmp.Compare(x.lastSeq, y.lastSeq) })
	// Make room for more than one: a full App would otherwise scan all
	// its instances for every new one.
	for _, c := range idle[:min(max(1, a.maxInstances/16), len(idle))] {
		victims = append(victims, c.in)
		a.removeLocked(c.in)
	}
	return victims, true
}

// removeLocked takes in out of the App; a durable instance stays in
// departing until its last changes are written. The caller holds a.mu.
func (a *App) removeLocked(in *instance) {
	a.live.Delete(in.key)
	a.count--
	if in.dur != nil {
		in.gone = make(chan struct{})
		a.departing[in.key] = in.gone
	}
}

// finishEviction deactivates instances taken out of the App, without
// waiting for them. It may run with a session's lock held (a connection's
// message that needed a new instance).
func (a *App) finishEviction(victims []*instance) {
	for _, in := range victims {
		in.deactivate()
	}
}
