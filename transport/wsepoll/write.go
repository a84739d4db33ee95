package wsepoll

import (
	"errors"
	"sync"

	"github.com/gobwas/ws"

	"github.com/zocket-go/zocket/internal/wsframe"
)

// maxBatch is how many bytes of frames one write gathers.
const maxBatch = 64 << 10

// writeState is a batch being written: lent from a pool while a
// connection writes.
type writeState struct {
	out    []byte
	off    int // how much of out is written
	frames int // data frames in out
	bytes  int // their payload bytes
}

var writeStates = sync.Pool{New: func() any { return &writeState{out: make([]byte, 0, 16<<10)} }}

// hasOutputLocked reports whether anything waits to be written.
func (c *conn) hasOutputLocked() bool {
	return c.wr != nil || len(c.ctrl) > 0 || len(c.queue) > 0 || c.cl != nil && !c.closeSent
}

// write takes the writer role, unless another goroutine holds it, and
// writes everything due without blocking.
func (c *conn) write() {
	c.mu.Lock()
	if c.writing || c.done.Load() || !c.hasOutputLocked() {
		c.mu.Unlock()
		return
	}
	c.writing = true
	c.mu.Unlock()
	c.drain()
}

// writeReady continues writing once the socket has room; the poller calls
// it on a goroutine of its own.
func (c *conn) writeReady() {
	if c.roomReported() {
		c.drain()
	}
}

// roomReported records that the socket has room for output, and reports
// whether the writer role waits for it (the caller then writes).
func (c *conn) roomReported() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.room {
		c.writable = true // a writer that just came up short retries
		return false
	}
	c.room = false
	c.s.writers.Add(-1)
	return true
}

// drain writes batches while holding the writer role. It gives the role up
// when nothing is left or a write failed, and keeps it, with the batch,
// while the poller waits for room in the socket.
//
// drain runs inside Send and Flush, where the App may hold an instance's
// lock: a connection it ends is dropped on another goroutine, since drop
// calls the Handler's OnClose, which takes instance locks.
func (c *conn) drain() {
	for {
		c.mu.Lock()
		if due := c.backlog.Drained(&c.s.opts.Options); due != nil {
			c.mu.Unlock()
			for _, fn := range due {
				fn() // still the writer: frames they queue go out in this loop
			}
			continue
		}
		if c.wr == nil && !c.batchLocked() {
			c.writing = false
			finished := c.closeSent && c.cl.drop
			c.mu.Unlock()
			if finished {
				go c.drop()
			}
			return
		}
		wr := c.wr
		c.writable = false
		c.mu.Unlock()
		n, err := c.sock.write(wr.out[wr.off:])
		c.mu.Lock()
		wr.off += n
		if wr.off == len(wr.out) {
			c.releaseOutLocked()
		}
		if err != nil && !errors.Is(err, errWouldBlock) {
			c.releaseOutLocked()
			c.writing = false
			c.mu.Unlock()
			if !c.done.Load() {
				c.s.opts.Logger.Debug("wsepoll: write failed", "clientId", c.id, "err", err)
			}
			go c.drop()
			return
		}
		if err != nil {
			if c.writable { // room was reported meanwhile
				c.mu.Unlock()
				continue
			}
			c.room = true
			c.s.writers.Add(1)
			c.mu.Unlock()
			c.s.poll.waitWritable(c)
			return
		}
		c.mu.Unlock()
	}
}

func (c *conn) releaseOutLocked() {
	wr := c.wr
	if wr == nil {
		return
	}
	c.wr = nil
	c.backlog.RemoveN(wr.frames, wr.bytes)
	if cap(wr.out) <= maxBatch {
		wr.out, wr.off, wr.frames, wr.bytes = wr.out[:0], 0, 0, 0
		writeStates.Put(wr)
	}
}

// batchLocked gathers the frames due into c.wr: control frames first,
// then data frames up to maxBatch, then the close frame once the queue is
// empty. It reports whether there is anything to write.
func (c *conn) batchLocked() bool {
	if len(c.ctrl) == 0 && len(c.queue) == 0 && (c.cl == nil || c.closeSent) {
		return false
	}
	wr := writeStates.Get().(*writeState)
	b := append(wr.out[:0], c.ctrl...)
	c.ctrl = nil
	n, size := 0, 0
	for n < len(c.queue) && !c.closeSent && (n == 0 || len(b)+len(c.queue[n]) <= maxBatch) {
		f := c.queue[n]
		b = append(wsframe.AppendHeader(b, wsframe.OpText, len(f)), f...)
		n++
		size += len(f)
	}
	if n > 0 {
		rest := copy(c.queue, c.queue[n:])
		clear(c.queue[rest:])
		c.queue = c.queue[:rest]
		if rest == 0 && cap(c.queue) > 16 {
			c.queue = nil // an idle connection keeps no large array
		}
	}
	if len(c.queue) == 0 && c.cl != nil && !c.closeSent {
		var body []byte
		if c.cl.code != 0 {
			body = ws.NewCloseFrameBody(c.cl.code, c.cl.reason)
		}
		b = append(wsframe.AppendHeader(b, wsframe.OpClose, len(body)), body...)
		c.closeSent = true
	}
	wr.out, wr.off, wr.frames, wr.bytes = b, 0, n, size
	c.wr = wr
	return true
}

// readyBoth writes (room was reported) and then reads (input was).
func (c *conn) readyBoth() {
	c.drain()
	c.readReady()
}
