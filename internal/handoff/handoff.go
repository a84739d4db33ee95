// Package handoff lets a transport lend its read goroutine to a method call
// (zocket.Handler.Dispatch) and moves reading to a new goroutine when the
// call runs long.
//
// One Watchdog per server checks, every tick, the connections that ran such
// a call recently, and calls Owner.ResumeReading on a new goroutine for a
// call that has run longer than After. Its goroutine exists only while some
// connection ran a lent call in the last few milliseconds. A per-call timer
// would cost more than the hand-off it saves.
package handoff

import (
	"sync"
	"sync/atomic"
	"time"
)

const (
	// After is how long a lent call may hold a connection's reading.
	After = 500 * time.Microsecond
	tick  = 250 * time.Microsecond
	idle  = 64 // ticks without a lent call before a connection leaves the list
)

// Owner is a connection whose reading can move to another goroutine.
type Owner interface {
	// ResumeReading continues reading the connection; the watchdog calls
	// it on a new goroutine after taking the reading role from a lent
	// call that overran.
	ResumeReading()
}

// Lease states.
const (
	stateIdle    int32 = iota // reading, or between frames
	stateRunning              // running a lent call
	stateHanded               // reading moved to a new goroutine
)

// Lease is the per-connection record the watchdog checks. The zero value
// is ready once Owner is set.
type Lease struct {
	Owner     Owner
	state     atomic.Int32
	since     atomic.Int64 // watchdog time the lent call started; 0: none
	watched   atomic.Bool  // on the watchdog's list
	idleTicks int          // watchdog only
}

// Watchdog watches lent calls; see the package doc.
type Watchdog struct {
	epoch time.Time

	mu      sync.Mutex
	leases  []*Lease
	running bool
	stop    chan struct{}
	done    chan struct{} // closed when the current goroutine exits
}

// New returns a Watchdog with no goroutine yet.
func New() *Watchdog {
	return &Watchdog{epoch: time.Now(), stop: make(chan struct{})}
}

// Run runs the lent call run on the calling goroutine, watched. It reports
// whether reading was handed to a new goroutine meanwhile: the caller must
// then stop reading (the new goroutine does) and only write what it owes.
func (w *Watchdog) Run(l *Lease, run func()) (handed bool) {
	l.state.Store(stateRunning)
	l.since.Store(w.now())
	if !l.watched.Load() {
		w.watch(l)
	}
	run()
	l.since.Store(0)
	return !l.state.CompareAndSwap(stateRunning, stateIdle)
}

// now is monotonic nanoseconds since the watchdog was made, never 0.
func (w *Watchdog) now() int64 { return int64(time.Since(w.epoch)) + 1 }

// watch adds l to the checked leases, starting the goroutine on first use.
func (w *Watchdog) watch(l *Lease) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if l.watched.Load() || w.stopped() {
		return
	}
	l.watched.Store(true)
	w.leases = append(w.leases, l)
	if !w.running {
		w.running = true
		w.done = make(chan struct{})
		go w.loop(w.done)
	}
}

func (w *Watchdog) stopped() bool {
	select {
	case <-w.stop:
		return true
	default:
		return false
	}
}

func (w *Watchdog) loop(done chan struct{}) {
	defer close(done)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
		}
		if !w.check() {
			return
		}
	}
}

// check hands over overdue readers and forgets idle leases; it reports
// whether any lease is left to watch.
func (w *Watchdog) check() bool {
	now := w.now()
	w.mu.Lock()
	defer w.mu.Unlock()
	kept := w.leases[:0]
	for _, l := range w.leases {
		since := l.since.Load()
		switch {
		case since != 0 && now-since > int64(After):
			if l.state.CompareAndSwap(stateRunning, stateHanded) {
				go l.Owner.ResumeReading()
			}
			l.idleTicks = 0
		case since != 0:
			l.idleTicks = 0
		default:
			l.idleTicks++
		}
		if l.idleTicks > idle {
			l.watched.Store(false)
			continue
		}
		kept = append(kept, l)
	}
	clear(w.leases[len(kept):])
	w.leases = kept
	if len(kept) == 0 {
		w.running = false // the goroutine exits; watch starts another
		return false
	}
	return true
}

// Close stops the goroutine and waits for it; the Watchdog then runs lent
// calls unwatched.
func (w *Watchdog) Close() {
	w.mu.Lock()
	if !w.stopped() {
		close(w.stop)
	}
	done := w.done
	w.mu.Unlock()
	if done != nil {
		<-done
	}
}
