package wscore_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/zocket-go/zocket/transport/wscore"
)

// fill returns a Backlog holding frames frames of size bytes each.
func fill(frames, size int) *wscore.Backlog {
	var b wscore.Backlog
	for range frames {
		b.Add(size)
	}
	return &b
}

func TestBacklog_FullAtEitherBoundCheckedBeforeTheFrame(t *testing.T) {
	o := &wscore.Options{SendQueue: 8, SendQueueBytes: 1000}
	assert.False(t, fill(0, 0).Full(o), "an empty queue takes a frame of any size")
	assert.False(t, fill(1, 999).Full(o), "below the byte bound a big frame still fits")
	assert.True(t, fill(1, 1000).Full(o), "at the byte bound")
	assert.False(t, fill(7, 1).Full(o))
	assert.True(t, fill(8, 1).Full(o), "at the frame bound")
}

func TestBacklog_HighWaterIsHalfOfEitherBound(t *testing.T) {
	o := &wscore.Options{SendQueue: 8, SendQueueBytes: 1000}
	assert.False(t, fill(3, 100).High(o))
	assert.True(t, fill(4, 1).High(o), "half the frames")
	assert.True(t, fill(1, 500).High(o), "half the bytes")
}

func TestBacklog_LowWaterIsAQuarterOfBothBounds(t *testing.T) {
	o := &wscore.Options{SendQueue: 8, SendQueueBytes: 1000}
	assert.True(t, fill(1, 249).Low(o))
	assert.False(t, fill(2, 1).Low(o), "a quarter of the frames")
	assert.False(t, fill(1, 250).Low(o), "a quarter of the bytes")
}

func TestBacklog_SmallBoundsStillDrainAndAcceptAnEmptyQueue(t *testing.T) {
	o := &wscore.Options{SendQueue: 1, SendQueueBytes: 1}
	assert.False(t, fill(0, 0).High(o), "QueueState takes a frame into an empty queue")
	assert.True(t, fill(0, 0).Low(o), "an empty queue is drained")
	assert.False(t, fill(1, 0).Low(o))
}

func TestBacklog_RemoveUncountsWrittenFrames(t *testing.T) {
	b := fill(3, 10)
	b.Remove([][]byte{make([]byte, 10), make([]byte, 10)})
	frames, bytes := b.Len()
	assert.Equal(t, 1, frames)
	assert.Equal(t, 10, bytes)
	b.RemoveN(1, 10)
	frames, bytes = b.Len()
	assert.Zero(t, frames)
	assert.Zero(t, bytes)
}

func TestBacklog_QueueStateRefusesAtHighWaterAndOnceClosed(t *testing.T) {
	o := &wscore.Options{SendQueue: 8, SendQueueBytes: 1000}
	var mu sync.Mutex
	var queue [][]byte
	b := fill(3, 1)
	assert.True(t, b.QueueState(&mu, o, &queue, []byte("abc")))
	assert.Len(t, queue, 1)
	frames, bytes := b.Len()
	assert.Equal(t, 4, frames)
	assert.Equal(t, 6, bytes)
	assert.False(t, b.QueueState(&mu, o, &queue, []byte("d")), "at the high-water mark")
	assert.Len(t, queue, 1, "a refused frame changes nothing")
	b.RemoveN(4, 6)
	b.Close()
	assert.False(t, b.QueueState(&mu, o, &queue, []byte("d")), "closed")
}

func TestBacklog_OnDrainedRunsAtOnceWhenLowOrClosed(t *testing.T) {
	o := &wscore.Options{SendQueue: 8, SendQueueBytes: 1000}
	var mu sync.Mutex
	ran := 0
	fill(1, 1).OnDrained(&mu, o, func() { ran++ })
	assert.Equal(t, 1, ran, "below the low-water mark")
	closed := fill(8, 1)
	closed.Close()
	closed.OnDrained(&mu, o, func() { ran++ })
	assert.Equal(t, 2, ran, "closed")
	assert.True(t, mu.TryLock(), "the lock is released")
	mu.Unlock()
	fill(8, 1).OnDrained(&mu, o, func() { ran++ })
	assert.Equal(t, 2, ran, "kept for later")
}

func TestBacklog_DrainedHandsEachCallbackBackOnceBelowLowWater(t *testing.T) {
	o := &wscore.Options{SendQueue: 8, SendQueueBytes: 1000}
	var mu sync.Mutex
	b := fill(4, 1)
	calls := 0
	b.OnDrained(&mu, o, func() { calls++ })
	assert.Nil(t, b.Drained(o), "still above the low-water mark")
	b.RemoveN(3, 3)
	fns := b.Drained(o)
	assert.Len(t, fns, 1)
	for _, fn := range fns {
		fn()
	}
	b.Close()
	assert.Nil(t, b.Drained(o), "handed back once")
	assert.Equal(t, 1, calls)
}

func TestBacklog_DrainedHandsEverythingBackOnceClosed(t *testing.T) {
	o := &wscore.Options{SendQueue: 8, SendQueueBytes: 1000}
	var mu sync.Mutex
	b := fill(8, 1)
	b.OnDrained(&mu, o, func() {})
	b.OnDrained(&mu, o, func() {})
	assert.Nil(t, b.Drained(o))
	b.Close()
	assert.Len(t, b.Drained(o), 2)
}

func TestBacklog_CountingAllocatesNothingWithoutCallbacks(t *testing.T) {
	o := &wscore.Options{SendQueue: 8, SendQueueBytes: 1000}
	b := fill(1, 1)
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		b.Add(10)
		_ = b.Full(o)
		b.RemoveN(1, 10)
		_ = b.Drained(o)
	}))
}
