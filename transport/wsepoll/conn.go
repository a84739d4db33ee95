package wsepoll

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/handoff"
	"github.com/zocket-go/zocket/transport/wscore"
)

// conn is one client connection: a zocket.Connection (and Flusher and
// TryFlusher) whose frames are written by whichever goroutine has output,
// and whose input is read by a goroutine that exists only while input
// waits (see the package doc).
//
// Two roles move between goroutines: reading (the reading flag, with the
// read state) and writing (writing, under mu, with the write state). A
// goroutine that finds a role taken leaves the work to its holder.
type conn struct {
	s        *Server
	sock     socket
	slot     int32 // index in the Server's connection table
	id       string
	identity *zocket.Identity // nil: anonymous
	lease    handoff.Lease

	// reading is true while a goroutine holds the reading role; rd, the
	// read state, belongs to that goroutine and is handed on with it.
	reading atomic.Bool
	input   atomic.Bool // input arrived since the reader last looked
	done    atomic.Bool // finished: socket closed, OnClose called
	rd      *readState  // nil while no input is held

	partialSince atomic.Int64 // when an incomplete frame began to arrive; 0: none
	lastRead     atomic.Int64 // when input last arrived
	pingSent     atomic.Int64 // when an unanswered ping was queued; 0: none

	mu        sync.Mutex
	writing   bool           // a goroutine holds the writer role
	room      bool           // the writer role waits for room in the socket
	writable  bool           // the socket reported room since the last write
	closeSent bool           // the close frame is written (or being written)
	queue     [][]byte       // text frames waiting to be written
	backlog   wscore.Backlog // queue and the batch being written
	ctrl      []byte         // encoded control frames due (pong, ping), written first
	wr        *writeState    // the batch being written; non-nil only while writing
	cl        *closing       // non-nil once a close is under way: no more data frames
}

// closing is the close under way on a connection.
type closing struct {
	code   ws.StatusCode // 0: a close frame without a body
	reason string
	drop   bool        // drop the socket once the close frame is written
	kill   *time.Timer // drops the socket if the close stalls
}

func newConn(s *Server, sock socket, id string, identity zocket.Identity) *conn {
	c := &conn{s: s, sock: sock, id: id}
	if identity.UserID != "" || identity.Claims != nil || identity.Namespace != nil {
		c.identity = &identity
	}
	c.lease.Owner = c
	c.lastRead.Store(s.now())
	return c
}

var _ zocket.StateQueuer = (*conn)(nil)

func (c *conn) ID() string { return c.id }
func (c *conn) Identity() zocket.Identity {
	if c.identity == nil {
		return zocket.Identity{}
	}
	return *c.identity
}

// Send queues frame and writes what the socket takes at once; the rest is
// written by a goroutine that lives while output waits. A full queue
// (SendQueue frames or SendQueueBytes bytes queued and not yet written)
// closes the connection as a slow consumer.
func (c *conn) Send(frame []byte) error {
	if err := c.Queue(frame); err != nil {
		return err
	}
	c.write()
	return nil
}

// Queue queues frame without writing; see zocket.Flusher.
func (c *conn) Queue(frame []byte) error {
	c.mu.Lock()
	if c.cl != nil {
		c.mu.Unlock()
		return wscore.ErrClosed
	}
	if c.backlog.Full(&c.s.opts.Options) {
		c.discardLocked() // nothing more will be written; the close says why
		c.closeLocked(ws.StatusPolicyViolation, wscore.ReasonSlowConsumer, false)
		c.mu.Unlock()
		c.s.opts.Logger.Warn("wsepoll: slow consumer closed", "clientId", c.id)
		if f := c.s.opts.OnSlowConsumer; f != nil {
			f(c.id)
		}
		c.write()
		return wscore.ErrSlowConsumer
	}
	c.queue = append(c.queue, frame)
	c.backlog.Add(len(frame))
	c.mu.Unlock()
	return nil
}

// QueueState queues frame like Queue unless the queue is at its
// high-water mark or the connection is closing; see zocket.StateQueuer.
func (c *conn) QueueState(frame []byte) bool {
	return c.backlog.QueueState(&c.mu, &c.s.opts.Options, &c.queue, frame)
}

// OnDrained calls fn once the queue is below its low-water mark or the
// connection closed; see zocket.StateQueuer. The goroutine whose write
// takes the queue below the mark calls it, which may be a caller of Send,
// Flush or TryFlush.
func (c *conn) OnDrained(fn func()) { c.backlog.OnDrained(&c.mu, &c.s.opts.Options, fn) }

// discardLocked drops the queued frames.
func (c *conn) discardLocked() {
	c.backlog.Remove(c.queue)
	c.queue = nil
}

// Flush writes queued frames, without blocking: what the socket does not
// take at once is written when it has room. See zocket.Flusher.
func (c *conn) Flush(bool) { c.write() }

// TryFlush is Flush; see zocket.TryFlusher.
func (c *conn) TryFlush() { c.write() }

// CloseWith closes the connection with code and reason after its queued
// frames; see zocket.Closer.
func (c *conn) CloseWith(code int, reason string) { c.closeWith(ws.StatusCode(code), reason) }

// closeWith queues a close frame behind the queued frames.
func (c *conn) closeWith(code ws.StatusCode, reason string) {
	c.mu.Lock()
	c.closeLocked(code, reason, false)
	c.mu.Unlock()
	c.write()
}

// closeLocked makes a close frame due; the peer has WriteTimeout to take
// the queued frames and answer it before the socket is dropped. With drop
// the socket is dropped as soon as the close frame is written.
func (c *conn) closeLocked(code ws.StatusCode, reason string, drop bool) {
	if c.cl != nil {
		c.cl.drop = c.cl.drop || drop
		return
	}
	c.cl = &closing{code: code, reason: reason, drop: drop, kill: time.AfterFunc(c.s.opts.WriteTimeout, c.drop)}
	c.backlog.Close()
}

// control makes the encoded control frame f due and writes it.
func (c *conn) control(f []byte) {
	c.mu.Lock()
	if c.cl != nil {
		c.mu.Unlock()
		return
	}
	c.ctrl = append(c.ctrl, f...)
	c.mu.Unlock()
	c.write()
}

// drop ends the connection at once: the socket is closed, buffers not in
// use go back to their pools, and the Handler's OnClose runs. Safe to call
// from any goroutine, any number of times.
func (c *conn) drop() {
	c.mu.Lock()
	if c.done.Load() {
		c.mu.Unlock()
		return
	}
	c.done.Store(true)
	if c.cl == nil {
		c.cl = &closing{}
	}
	c.backlog.Close()
	if c.cl.kill != nil {
		c.cl.kill.Stop()
	}
	c.discardLocked()
	c.ctrl = nil
	if c.room { // the writer role waited for room: no event will come
		c.room, c.writing = false, false
		c.releaseOutLocked()
		c.s.writers.Add(-1)
	}
	due := c.backlog.Drained(&c.s.opts.Options)
	c.mu.Unlock()
	c.s.poll.remove(c)
	c.sock.close()
	for _, fn := range due {
		fn()
	}
	if c.reading.CompareAndSwap(false, true) {
		c.releaseInput() // no reader holds it; none will start
	}
	c.s.h.OnClose(c)
	c.s.untrack(c)
	c.s.wg.Done()
}
