package zocket

import (
	"sync"
	"time"
)

// DefaultWriteBehind is how long, at most, a Relaxed instance's changes
// wait before they are written (WithWriteBehind).
const DefaultWriteBehind = 100 * time.Millisecond

// WithStorage makes the App's actor types durable (see Durability): their
// instances load their state from s when they activate, and every commit is
// written to s as a record of its patch, with a snapshot now and then.
// Writes of many instances go to s together (group commit). The App does
// not close s.
func WithStorage(s Storage) Option { return func(a *App) { a.storage = s } }

// WithWriteBehind sets how long, at most, the changes of Relaxed
// instances wait before they are written (default DefaultWriteBehind):
// the window of changes a crash may lose.
func WithWriteBehind(d time.Duration) Option { return func(a *App) { a.writeBehind = d } }

// committer writes the pending changes of durable instances to the
// Storage, many instances per Write (group commit), from one goroutine
// that the App owns: started with the App, stopped by Close after the
// last flush.
type committer struct {
	app  *App
	wake chan struct{} // one pending signal at most

	mu      sync.Mutex
	gated   []*instance // to write now
	relaxed []*instance // to write within the write-behind delay
	closing bool
	stopped chan struct{}
}

func newCommitter(a *App) *committer {
	c := &committer{app: a, wake: make(chan struct{}, 1), stopped: make(chan struct{})}
	go c.run()
	return c
}

// addLocked queues in for the next write, once. The caller holds in.mu.
func (c *committer) addLocked(in *instance) {
	d := in.dur
	if d.queued {
		return
	}
	d.queued = true
	c.mu.Lock()
	if d.mode == Relaxed {
		c.relaxed = append(c.relaxed, in)
	} else {
		c.gated = append(c.gated, in)
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// close writes what is pending and stops the committer.
func (c *committer) close() {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	<-c.stopped
}

func (c *committer) run() {
	defer close(c.stopped)
	var behind *time.Timer
	var behindC <-chan time.Time
	for {
		relaxedDue := false
		select {
		case <-c.wake:
		case <-behindC:
			behindC, relaxedDue = nil, true
		}
		c.mu.Lock()
		closing := c.closing
		batch := c.gated
		c.gated = nil
		if relaxedDue || closing {
			batch = append(batch, c.relaxed...)
			c.relaxed = nil
		} else if len(c.relaxed) > 0 && behindC == nil {
			if behind == nil {
				behind = time.NewTimer(c.app.writeBehind)
			} else {
				behind.Reset(c.app.writeBehind)
			}
			behindC = behind.C
		}
		c.mu.Unlock()
		c.write(batch)
		if closing {
			c.mu.Lock()
			done := len(c.gated) == 0 && len(c.relaxed) == 0
			c.mu.Unlock()
			if done {
				if behind != nil {
					behind.Stop()
				}
				return
			}
			select { // more came while writing: go round again
			case c.wake <- struct{}{}:
			default:
			}
		}
	}
}

// write stores the pending changes of the instances in one Storage.Write
// and then releases their held outputs, or fails them.
func (c *committer) write(instances []*instance) {
	if len(instances) == 0 {
		return
	}
	batch := make([]Write, 0, len(instances))
	owners := make([]*instance, 0, len(instances))
	for _, in := range instances {
		in.mu.Lock()
		w, ok := in.takeWriteLocked()
		if !ok {
			in.wakeWaitersLocked()
		}
		in.mu.Unlock()
		if ok {
			batch = append(batch, w)
			owners = append(owners, in)
		}
	}
	if len(batch) == 0 {
		return
	}
	start := time.Now()
	errs := c.app.storage.Write(c.app.hookCtx, batch)
	if o := c.app.obs; o != nil {
		if so, ok := o.(StorageObserver); ok {
			so.Stored(StoreInfo{Writes: len(batch), Bytes: writeBytes(batch), Duration: time.Since(start),
				Failed: countErrors(errs)})
		}
	}
	for i, in := range owners {
		if errs != nil && errs[i] != nil {
			in.writeFailed(errs[i])
			continue
		}
		in.written(&batch[i])
	}
}

// StorageObserver is an Observer that also hears of storage writes.
type StorageObserver interface {
	Observer
	// Stored is called after each Storage.Write, from the App's writer.
	Stored(StoreInfo)
}

// StoreInfo describes one Storage.Write: how many instances it wrote, the
// bytes of their snapshots and records (with the answers of calls stored
// with them), how long it took and how many of its Writes failed.
type StoreInfo struct {
	Writes   int
	Bytes    int
	Duration time.Duration
	Failed   int
}

func writeBytes(batch []Write) int {
	n := 0
	for i := range batch {
		if s := batch[i].Snapshot; s != nil {
			n += len(s.State) + CallBytes(s.Calls)
		}
		for _, r := range batch[i].Records {
			n += len(r.Patch) + CallBytes(r.Calls)
		}
	}
	return n
}

func countErrors(errs []error) int {
	n := 0
	for _, err := range errs {
		if err != nil {
			n++
		}
	}
	return n
}
