package websocket

import (
	"sync"
	"time"
)

// watchdog hands a connection's reading to a new goroutine when a method
// that Handler.Dispatch lent to its read goroutine runs longer than
// handoffAfter. One goroutine per Server checks, every watchTick, the
// connections that ran such a method recently, and exits when there are
// none left. A per-call timer would cost more than the hand-off it saves.
type watchdog struct {
	epoch time.Time

	mu      sync.Mutex
	conns   []*conn
	running bool
	stop    chan struct{}
	done    chan struct{} // closed when the current goroutine exits
}

const (
	handoffAfter = 500 * time.Microsecond // how long a lent method may hold reading
	watchTick    = 250 * time.Microsecond
	watchIdle    = 64 // ticks without a lent method before a connection is dropped from the list
)

func newWatchdog() *watchdog {
	return &watchdog{epoch: time.Now(), stop: make(chan struct{})}
}

// now is monotonic nanoseconds since the watchdog was made, never 0.
func (w *watchdog) now() int64 { return int64(time.Since(w.epoch)) + 1 }

// watch adds c to the checked connections, starting the goroutine on first
// use. c.watched makes this a no-op while c is on the list.
func (w *watchdog) watch(c *conn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if c.watched.Load() || w.stopped() {
		return
	}
	c.watched.Store(true)
	w.conns = append(w.conns, c)
	if !w.running {
		w.running = true
		w.done = make(chan struct{})
		go w.loop(w.done)
	}
}

func (w *watchdog) stopped() bool {
	select {
	case <-w.stop:
		return true
	default:
		return false
	}
}

func (w *watchdog) loop(done chan struct{}) {
	defer close(done)
	t := time.NewTicker(watchTick)
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

// check hands over overdue readers and forgets idle connections; it
// reports whether any connection is left to watch.
func (w *watchdog) check() bool {
	now := w.now()
	w.mu.Lock()
	defer w.mu.Unlock()
	kept := w.conns[:0]
	for _, c := range w.conns {
		since := c.runSince.Load()
		switch {
		case since != 0 && now-since > int64(handoffAfter):
			c.takeOver()
			c.idleTicks = 0
		case since != 0:
			c.idleTicks = 0
		default:
			c.idleTicks++
		}
		if c.idleTicks > watchIdle {
			c.watched.Store(false)
			continue
		}
		kept = append(kept, c)
	}
	clear(w.conns[len(kept):])
	w.conns = kept
	if len(kept) == 0 {
		w.running = false // the goroutine exits; watch starts another
		return false
	}
	return true
}

// close stops the goroutine and waits for it.
func (w *watchdog) close() {
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
