package wsepoll

import (
	"sync"
	"time"
)

// workers runs the readers and writers a poller starts on goroutines that
// outlive one task: a worker waits up to workerIdle for the next task,
// then exits. A fresh goroutine per event would cost its start and the
// growth of its stack, which was a quarter of a round trip's time; idle
// servers still end up with no goroutine at all.
type workers struct {
	tasks chan task
	quit  chan struct{}
	wg    sync.WaitGroup
}

type task struct {
	c *conn
	f func(*conn)
}

const workerIdle = time.Second

func newWorkers() *workers {
	return &workers{tasks: make(chan task), quit: make(chan struct{})}
}

// run runs f(c) on an idle worker, or on a new one when none is idle.
func (w *workers) run(c *conn, f func(*conn)) {
	select {
	case w.tasks <- task{c, f}:
	default:
		w.wg.Add(1)
		go w.work(task{c, f})
	}
}

func (w *workers) work(t task) {
	defer w.wg.Done()
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		t.f(t.c)
		idle.Reset(workerIdle)
		select {
		case t = <-w.tasks:
		case <-idle.C:
			return
		case <-w.quit:
			return
		}
	}
}

// close makes idle workers exit and waits for busy ones to finish.
func (w *workers) close() {
	close(w.quit)
	w.wg.Wait()
}
