package handoff

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
)

// owner counts ResumeReading calls and signals each on resumedc.
type owner struct {
	resumed  atomic.Int32
	resumedc chan struct{}
}

func newOwner() *owner { return &owner{resumedc: make(chan struct{}, 8)} }

func (o *owner) ResumeReading() {
	o.resumed.Add(1)
	o.resumedc <- struct{}{}
}

// The tests run in synctest bubbles: the watchdog's ticker and clock are
// the bubble's fake ones, so a call's length is exactly what it sleeps.

func TestShortCallKeepsReading(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := New()
		defer w.Close()
		o := newOwner()
		l := &Lease{Owner: o}
		for range 100 {
			assert.False(t, w.Run(l, func() {}))
		}
		time.Sleep(10 * After) // the watchdog keeps ticking; nothing is overdue
		synctest.Wait()
		assert.Zero(t, o.resumed.Load())
	})
}

func TestLongCallHandsReadingOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := New()
		defer w.Close()
		o := newOwner()
		l := &Lease{Owner: o}
		handed := w.Run(l, func() {
			select {
			case <-o.resumedc: // the watchdog moved reading
			case <-time.After(time.Second): // fake time: only bounds a failure
			}
			synctest.Wait()
		})
		assert.True(t, handed, "the caller learns that reading moved")
		assert.Equal(t, int32(1), o.resumed.Load(), "ResumeReading ran once")
		assert.False(t, w.Run(l, func() {}), "the lease is usable again")
	})
}

func TestClosedWatchdogRunsUnwatched(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := New()
		w.Close()
		o := newOwner()
		assert.False(t, w.Run(&Lease{Owner: o}, func() { time.Sleep(5 * After) }))
		assert.Zero(t, o.resumed.Load())
	})
}
