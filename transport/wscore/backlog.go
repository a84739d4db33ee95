package wscore

import "sync"

// Backlog counts the frames and payload bytes of a connection's outbound
// queue, from the moment each is queued until it is written, against the
// bounds of Options, and keeps the callbacks registered with
// zocket.StateQueuer.OnDrained. Its marks:
//
//   - full (Full): SendQueue frames or SendQueueBytes bytes; a frame
//     queued now closes the connection as a slow consumer;
//   - high water (High): half of either bound; QueueState refuses state
//     frames from here on;
//   - low water (Low): the queue holds less than a quarter of SendQueue
//     frames and less than a quarter of SendQueueBytes bytes; OnDrained
//     callbacks are due.
//
// A mark is never below one frame or byte, so that small bounds still
// drain: with SendQueue under 4, low water means an empty queue.
//
// Every high-water check comes before the frame is added, so whenever
// OnDrained is due QueueState accepts: a caller that resynchronises from
// its callback always makes progress.
//
// The zero value is an empty Backlog. It is not safe for concurrent use:
// the transport guards it with its connection's lock, and calls the
// callbacks that Drained hands back after releasing it. QueueState and
// OnDrained take that lock themselves.
type Backlog struct {
	frames  int
	bytes   int
	closed  bool
	drained []func()
}

// Len returns the number of frames queued and their payload bytes.
func (b *Backlog) Len() (frames, bytes int) { return b.frames, b.bytes }

// Full reports whether the queue is at its bound in frames or in bytes.
func (b *Backlog) Full(o *Options) bool {
	return b.frames >= o.SendQueue || b.bytes >= o.SendQueueBytes
}

// High reports whether the queue is at or above its high-water mark.
func (b *Backlog) High(o *Options) bool {
	return b.frames >= mark(o.SendQueue, 2) || b.bytes >= mark(o.SendQueueBytes, 2)
}

// Low reports whether the queue is below its low-water mark.
func (b *Backlog) Low(o *Options) bool {
	return b.frames < mark(o.SendQueue, 4) && b.bytes < mark(o.SendQueueBytes, 4)
}

// mark is bound/div, at least 1.
func mark(bound, div int) int { return max(bound/div, 1) }

// Add counts a queued frame of n payload bytes.
func (b *Backlog) Add(n int) {
	b.frames++
	b.bytes += n
}

// QueueState is zocket.StateQueuer.QueueState for a connection whose lock
// is mu and whose frames waiting to be written are *queue: it appends
// frame to *queue and counts it, unless the connection is closed or the
// queue is at its high-water mark.
func (b *Backlog) QueueState(mu sync.Locker, o *Options, queue *[][]byte, frame []byte) bool {
	mu.Lock()
	defer mu.Unlock()
	if b.closed || b.High(o) {
		return false
	}
	*queue = append(*queue, frame)
	b.Add(len(frame))
	return true
}

// Remove uncounts frames that left the queue, written or discarded.
func (b *Backlog) Remove(frames [][]byte) {
	n := 0
	for _, f := range frames {
		n += len(f)
	}
	b.RemoveN(len(frames), n)
}

// RemoveN uncounts frames frames of n payload bytes in all.
func (b *Backlog) RemoveN(frames, n int) {
	b.frames -= frames
	b.bytes -= n
}

// Close records that the connection is closing: QueueState refuses from
// now on and every OnDrained callback is due.
func (b *Backlog) Close() { b.closed = true }

// OnDrained is zocket.StateQueuer.OnDrained for a connection whose lock is
// mu: it calls fn at once, after releasing mu, when the connection is
// closed or the queue is below its low-water mark, and otherwise keeps it
// for Drained.
func (b *Backlog) OnDrained(mu sync.Locker, o *Options, fn func()) {
	mu.Lock()
	due := b.closed || b.Low(o)
	if !due {
		b.drained = append(b.drained, fn)
	}
	mu.Unlock()
	if due {
		fn()
	}
}

// Drained returns the registered callbacks that are due, forgetting them:
// all of them when the connection is closed or the queue is below its
// low-water mark, none otherwise. The caller calls them after releasing
// its lock. It allocates nothing.
func (b *Backlog) Drained(o *Options) []func() {
	if len(b.drained) == 0 || !b.closed && !b.Low(o) {
		return nil
	}
	fns := b.drained
	b.drained = nil
	return fns
}
