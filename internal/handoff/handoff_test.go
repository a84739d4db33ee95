package handoff

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

type owner struct{ resumed atomic.Int32 }

func (o *owner) ResumeReading() { o.resumed.Add(1) }

func TestShortCallKeepsReading(t *testing.T) {
	w := New()
	defer w.Close()
	o := &owner{}
	l := &Lease{Owner: o}
	for range 100 {
		assert.False(t, w.Run(l, func() {}))
	}
	assert.Zero(t, o.resumed.Load())
}

func TestLongCallHandsReadingOver(t *testing.T) {
	w := New()
	defer w.Close()
	o := &owner{}
	l := &Lease{Owner: o}
	handed := w.Run(l, func() {
		deadline := time.Now().Add(5 * time.Second)
		for o.resumed.Load() == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	})
	assert.True(t, handed, "the caller learns that reading moved")
	assert.Equal(t, int32(1), o.resumed.Load(), "ResumeReading ran once")
	assert.False(t, w.Run(l, func() {}), "the lease is usable again")
}

func TestClosedWatchdogRunsUnwatched(t *testing.T) {
	w := New()
	w.Close()
	o := &owner{}
	assert.False(t, w.Run(&Lease{Owner: o}, func() { time.Sleep(5 * After) }))
	assert.Zero(t, o.resumed.Load())
}
