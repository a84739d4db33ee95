package wshttp

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/handoff"
	"github.com/zocket-go/zocket/internal/wscork"
	"github.com/zocket-go/zocket/transport/wscore"
)

// conn is one client connection: a zocket.Connection whose Send queues
// frames for its writer goroutine.
type conn struct {
	s        *Server
	ws       *websocket.Conn
	sock     *wscork.Conn
	id       string
	identity zocket.Identity

	mu          sync.Mutex
	queue       [][]byte
	spare       [][]byte       // the previous batch's array, reused
	backlog     wscore.Backlog // queue and batches being written
	writing     bool           // a goroutine is writing; it drains the queue
	closed      bool
	closeCode   websocket.StatusCode
	closeReason string
	wake        chan struct{} // capacity 1
	kill        *time.Timer   // drops the socket if a requested close stalls

	writerDone chan struct{}
	lease      handoff.Lease // the watchdog's record of lent calls
	pending    atomic.Bool   // the reader owes a flush of a lent call's answer
	input      *bufio.Reader // read buffer shared with coder/websocket
	// inputMu keeps our look at input's buffered bytes apart from
	// coder/websocket's Close, which reads input on the closing goroutine.
	inputMu sync.Mutex

	ctx    context.Context // ends when the connection is done
	cancel context.CancelFunc
}

func newConn(s *Server, ws *websocket.Conn, sock *wscork.Conn, id string, identity zocket.Identity) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{s: s, ws: ws, sock: sock, id: id, identity: identity, wake: make(chan struct{}, 1), ctx: ctx, cancel: cancel}
	c.lease.Owner = c
	return c
}

var _ zocket.StateQueuer = (*conn)(nil)

func (c *conn) ID() string                { return c.id }
func (c *conn) Identity() zocket.Identity { return c.identity }

// Send queues frame without blocking and wakes the writer. When the queue
// is full (SendQueue frames or SendQueueBytes bytes queued and not yet
// written) the connection is closed as a slow consumer.
func (c *conn) Send(frame []byte) error {
	err := c.Queue(frame)
	if err == nil {
		c.signal()
	}
	return err
}

// Queue queues frame without waking anyone; see zocket.Flusher.
func (c *conn) Queue(frame []byte) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return wscore.ErrClosed
	}
	if c.backlog.Full(&c.s.opts) {
		c.closeLocked(websocket.StatusPolicyViolation, wscore.ReasonSlowConsumer)
		c.discardLocked() // nothing more will be written; the close says why
		c.mu.Unlock()
		c.s.opts.Logger.Warn("wshttp: slow consumer closed", "clientId", c.id)
		if f := c.s.opts.OnSlowConsumer; f != nil {
			f(c.id)
		}
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
	return c.backlog.QueueState(&c.mu, &c.s.opts, &c.queue, frame)
}

// OnDrained calls fn once the queue is below its low-water mark or the
// connection closed; see zocket.StateQueuer. The goroutine that writes the
// frames taking the queue below the mark calls it: the writer, or a caller
// of Flush or TryFlush.
func (c *conn) OnDrained(fn func()) { c.backlog.OnDrained(&c.mu, &c.s.opts, fn) }

// discardLocked drops the queued frames.
func (c *conn) discardLocked() {
	c.backlog.Remove(c.queue)
	c.queue = nil
}

// writtenLocked uncounts batch, written or failed, and returns the
// OnDrained callbacks now due, which the caller calls after unlocking.
func (c *conn) writtenLocked(batch [][]byte) []func() {
	c.backlog.Remove(batch)
	clear(batch)
	c.spare = batch
	return c.backlog.Drained(&c.s.opts)
}

// run calls the OnDrained callbacks fns.
func run(fns []func()) {
	for _, fn := range fns {
		fn()
	}
}

// Flush writes queued frames on the calling goroutine when inline is true,
// unless another goroutine is already writing them; otherwise it wakes the
// writer. See zocket.Flusher.
func (c *conn) Flush(inline bool) {
	if !inline || !c.writeQueued() {
		c.signal()
	}
}

// moreInput reports whether input already holds the start of another
// data frame, whose message the next read returns without waiting for the
// peer. A control frame (a pong) does not count: reading it yields no
// message, and the read would wait with the answers unsent.
func (c *conn) moreInput() bool {
	c.inputMu.Lock()
	defer c.inputMu.Unlock()
	if c.input.Buffered() == 0 {
		return false
	}
	b, err := c.input.Peek(1)
	return err == nil && b[0]&0x08 == 0 // opcodes 0x8 and up are control frames
}

// TryFlush writes what the socket takes now, without blocking, and hands
// the rest to the writer goroutine; see zocket.TryFlusher. A fan-out then
// costs one system call per subscriber and no goroutine hand-off.
func (c *conn) TryFlush() {
	if c.s.compression != websocket.CompressionDisabled {
		c.signal()
		return
	}
	c.mu.Lock()
	if c.writing || len(c.queue) == 0 {
		c.mu.Unlock()
		return // the writer at work drains it; or nothing to do
	}
	// What a failed non-blocking write left corked counts too: past
	// wscork.MaxCork, WriteText would flush it blocking, holding up the caller.
	size := c.sock.Buffered()
	for _, f := range c.queue {
		size += len(f) + 10
	}
	if size > wscork.MaxCork || c.closed && c.closeCode != 0 {
		c.mu.Unlock()
		c.signal()
		return
	}
	c.writing = true
	batch := c.queue
	c.queue = c.spare[:0]
	c.mu.Unlock()
	c.sock.Cork()
	var err error
	for _, f := range batch {
		if err = c.sock.WriteText(f); err != nil {
			break
		}
	}
	done := false
	if err == nil {
		done, err = c.sock.TryUncork()
	}
	c.mu.Lock()
	due := c.writtenLocked(batch)
	c.writing = false
	// A close asked for meanwhile was left to the writer goroutine, which
	// found the role taken: it must look again.
	more := len(c.queue) > 0 || c.closed && c.closeCode != 0
	c.mu.Unlock()
	run(due)
	if err != nil {
		c.s.opts.Logger.Debug("wshttp: write failed", "clientId", c.id, "err", err)
		c.ws.CloseNow()
		return
	}
	if !done || more {
		c.signal() // the writer finishes: it uncorks what the socket did not take
	}
}

// flushPending writes the answers of calls the reader ran (Dispatch).
func (c *conn) flushPending() {
	if c.pending.Swap(false) && !c.writeQueued() {
		c.signal()
	}
}

func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// CloseWith closes the connection with code and reason after its queued
// frames; see zocket.Closer.
func (c *conn) CloseWith(code int, reason string) { c.closeWith(websocket.StatusCode(code), reason) }

// closeWith asks the writer to flush what is queued, then close with code.
func (c *conn) closeWith(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	c.closeLocked(code, reason)
	c.mu.Unlock()
}

func (c *conn) closeLocked(code websocket.StatusCode, reason string) {
	if c.closed {
		return
	}
	c.closed, c.closeCode, c.closeReason = true, code, reason
	c.backlog.Close()
	// The writer may be stuck writing to a peer that does not read: give
	// the close WriteTimeout, then drop the socket.
	c.kill = time.AfterFunc(c.s.opts.WriteTimeout, func() { c.ws.CloseNow() })
	c.signal()
}

// serve starts the writer goroutine and reads on the calling goroutine.
// It returns when the connection is done, or earlier if a slow method
// made reading move to another goroutine, which then finishes the
// connection.
func (c *conn) serve() {
	c.s.h.OnConnection(c)
	c.writerDone = make(chan struct{})
	go func() {
		defer close(c.writerDone)
		c.writeLoop()
	}()
	c.readLoop()
}

// readLoop reads frames until the connection ends or a method that
// Dispatch lent this goroutine outlasts handoffAfter.
func (c *conn) readLoop() {
	for {
		if !c.moreInput() {
			c.flushPending() // about to wait for input: answer first
		}
		data, err := c.readMessage()
		if err != nil {
			if c.ctx.Err() == nil {
				c.s.opts.Logger.Debug("wshttp: read ended", "clientId", c.id, "err", err)
			}
			c.finish()
			return
		}
		run := c.s.h.Dispatch(c, data)
		if run == nil {
			continue
		}
		handed := c.s.watch.Run(&c.lease, run)
		c.pending.Store(true) // the answer waits in the queue (Dispatch)
		if handed {
			c.pending.Store(false)
			c.signal() // the writer takes over what this goroutine owed
			return     // ResumeReading started a new reader
		}
	}
}

// ResumeReading continues reading on a new goroutine when a call lent by
// Dispatch overran; see handoff.Watchdog.
func (c *conn) ResumeReading() { c.readLoop() }

// finish cleans up after the last read, on whichever goroutine read last.
func (c *conn) finish() {
	c.mu.Lock()
	c.closed = true
	c.backlog.Close()
	c.discardLocked()
	if c.kill != nil {
		c.kill.Stop()
	}
	due := c.backlog.Drained(&c.s.opts)
	c.mu.Unlock()
	run(due)
	c.cancel()
	<-c.writerDone
	c.ws.CloseNow()
	c.s.h.OnClose(c)
	c.s.untrack(c)
	c.s.wg.Done()
}

// readMessage reads one message into a borrowed buffer and returns an
// exact-size copy, which the Handler keeps. No context: one with a Done
// channel costs coder/websocket a context.AfterFunc per read; CloseNow
// unblocks the read instead.
func (c *conn) readMessage() ([]byte, error) {
	_, r, err := c.ws.Reader(context.Background())
	if err != nil {
		return nil, err
	}
	bp, _ := c.s.scratch.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, 0, 4096)
		bp = &b
	}
	defer func() {
		if cap(*bp) <= 64<<10 {
			c.s.scratch.Put(bp)
		}
	}()
	buf := (*bp)[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			*bp = buf
			return nil, err
		}
	}
	*bp = buf
	return bytes.Clone(buf), nil
}

// writeLoop writes queued frames in batches, pings, and performs the close.
func (c *conn) writeLoop() {
	var ping <-chan time.Time
	if c.s.opts.PingInterval > 0 {
		t := time.NewTicker(c.s.opts.PingInterval)
		defer t.Stop()
		ping = t.C
	}
	pinging := false
	pong := make(chan error, 1)
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-ping:
			if pinging {
				continue
			}
			pinging = true
			go func() { // bounded by PingTimeout; owned by this loop via pong
				ctx, cancel := context.WithTimeout(c.ctx, c.s.opts.PingTimeout)
				defer cancel()
				pong <- c.ws.Ping(ctx)
			}()
			continue
		case err := <-pong:
			pinging = false
			if err != nil && c.ctx.Err() == nil {
				c.s.opts.Logger.Info("wshttp: peer did not answer ping; dropping", "clientId", c.id, "err", err)
				c.ws.CloseNow()
				return
			}
			continue
		case <-c.wake:
		}
		if !c.writeQueued() {
			// Someone else is writing and will drain; or a close is due.
			c.mu.Lock()
			code, reason, due := c.closeCode, c.closeReason, c.closed && !c.writing && len(c.queue) == 0
			c.mu.Unlock()
			if due && code != 0 {
				c.inputMu.Lock()
				c.ws.Close(code, reason)
				c.inputMu.Unlock()
				return
			}
		}
	}
}

// writeQueued takes the writer role and writes until the queue is empty.
// It returns false when it did not write everything: another goroutine
// holds the role, a write failed (the socket is then dropped), or a close is
// due, which only the writer goroutine performs.
func (c *conn) writeQueued() bool {
	c.mu.Lock()
	if c.writing {
		c.mu.Unlock()
		return false
	}
	c.writing = true
	for len(c.queue) > 0 || c.sock.Buffered() > 0 {
		batch := c.queue
		c.queue = c.spare[:0]
		c.mu.Unlock()
		err := c.writeBatch(batch)
		c.mu.Lock()
		if due := c.writtenLocked(batch); due != nil {
			c.mu.Unlock()
			run(due) // still the writer: frames they queue go out in this loop
			c.mu.Lock()
		}
		if err != nil {
			c.writing = false
			c.mu.Unlock()
			c.s.opts.Logger.Debug("wshttp: write failed", "clientId", c.id, "err", err)
			c.ws.CloseNow()
			return false
		}
	}
	c.writing = false
	closeDue := c.closed && c.closeCode != 0
	c.mu.Unlock()
	return !closeDue
}

// writeBatch writes frames back to back, corked: uncompressed, they reach
// the socket in as few system calls as wscork.MaxCork allows (compressed ones go
// through coder/websocket, one write each). A peer that stops reading
// blocks it until pings or the slow-consumer close drop the socket.
func (c *conn) writeBatch(frames [][]byte) error {
	c.sock.Cork()
	for _, f := range frames {
		var err error
		if c.s.compression == websocket.CompressionDisabled {
			err = c.sock.WriteText(f)
		} else {
			err = c.ws.Write(context.Background(), websocket.MessageText, f)
		}
		if err != nil {
			c.sock.Uncork()
			return err
		}
	}
	return c.sock.Uncork()
}
