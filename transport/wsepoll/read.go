package wsepoll

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"sync"

	"github.com/gobwas/ws"

	"github.com/zocket-go/zocket/internal/wsframe"
)

// readBufSize is the size of pooled read buffers; a larger frame grows
// its connection's buffer as its bytes arrive.
const readBufSize = 4 << 10

// readState is a connection's input while it is held: lent from a pool
// with its buffer when input arrives, given back when none is left over.
type readState struct {
	in   []byte // unread input is in[r:w]
	r, w int
	need int    // size of the frame being read, when incomplete
	msg  []byte // fragments of a message so far
	owed bool   // answers of lent calls wait to be written
}

var readStates = sync.Pool{New: func() any { return &readState{in: make([]byte, readBufSize)} }}

// protocolError is a reason to close the connection with a status code.
type protocolError struct {
	code   ws.StatusCode
	reason string
}

var (
	errUnmasked     = &protocolError{ws.StatusProtocolError, "client frames must be masked"}
	errRSV          = &protocolError{ws.StatusProtocolError, "reserved bits set"}
	errOpcode       = &protocolError{ws.StatusProtocolError, "reserved opcode"}
	errControl      = &protocolError{ws.StatusProtocolError, "fragmented or oversized control frame"}
	errContinuation = &protocolError{ws.StatusProtocolError, "unexpected continuation frame"}
	errInterleaved  = &protocolError{ws.StatusProtocolError, "data frame inside a fragmented message"}
	errLength       = &protocolError{ws.StatusProtocolError, "invalid payload length"}
	errCloseBody    = &protocolError{ws.StatusProtocolError, "invalid close frame body"}
	errTooBig       = &protocolError{ws.StatusMessageTooBig, "message too big"}
)

// readReady is called by the poller, on a goroutine of its own, when the
// socket has input. It takes the reading role unless someone holds it;
// the holder then sees the input flag and reads again before it waits.
func (c *conn) readReady() {
	c.input.Store(true)
	if c.reading.CompareAndSwap(false, true) {
		c.readOn(0)
	}
}

// ResumeReading continues reading on a new goroutine when a call lent by
// Dispatch overran; see handoff.Watchdog. The poller learns of it, in
// case the overrunning call holds its goroutine.
func (c *conn) ResumeReading() {
	c.s.poll.resumed(c)
	c.readOn(0)
}

// readOn reads while holding the reading role: until the socket has no
// more input, when the role is given up and the poller waits, or until the
// role passed to another goroutine or the connection ended. With a budget,
// it returns after that many reads that found input, still holding the
// role, and reports so (the caller passes the connection on).
func (c *conn) readOn(budget int) (spent bool) {
	for {
		c.input.Store(false)
		switch c.readAvailable(budget) {
		case readLost:
			return false
		case readSpent:
			return true
		}
		c.park()
		if !c.s.poll.wait(c) || !c.reading.CompareAndSwap(false, true) {
			return false
		}
	}
}

// Outcomes of readAvailable.
const (
	readDrained = iota // the socket has no more input
	readLost           // the reading role is gone: handed on, or the connection ended
	readSpent          // the budget is spent; the role is still held
)

// park gives up the reading role, and the read state unless a frame is
// half read.
func (c *conn) park() {
	if rd := c.rd; rd == nil || rd.r == rd.w && rd.msg == nil {
		c.releaseInput()
		c.partialSince.Store(0)
	} else if c.partialSince.Load() == 0 {
		c.partialSince.Store(c.s.now())
	}
	c.reading.Store(false)
	if c.done.Load() && c.reading.CompareAndSwap(false, true) {
		c.releaseInput() // dropped meanwhile: nobody else will
	}
}

// borrowInput gives the reader a read state.
func (c *conn) borrowInput() *readState {
	if c.rd == nil {
		c.rd = readStates.Get().(*readState)
		c.s.readBuffers.Add(1)
	}
	return c.rd
}

func (c *conn) releaseInput() {
	rd := c.rd
	if rd == nil {
		return
	}
	c.rd = nil
	c.s.readBuffers.Add(-1)
	if cap(rd.in) == readBufSize {
		*rd = readState{in: rd.in[:readBufSize]}
		readStates.Put(rd)
	}
}

// seed makes early the start of the input.
func (c *conn) seed(early []byte) {
	if len(early) > 0 {
		c.rd = &readState{in: early, w: len(early)}
		c.s.readBuffers.Add(1)
	}
}

// readAvailable handles buffered frames and reads more until the socket
// has nothing, this goroutine lost the reading role, or budget reads (if
// not 0) found input.
func (c *conn) readAvailable(budget int) int {
	for reads := 0; ; reads++ {
		if !c.handleFrames() {
			return readLost
		}
		if c.rd != nil && c.rd.owed { // answer before waiting for more input
			c.rd.owed = false
			c.write()
		}
		if budget > 0 && reads == budget {
			return readSpent
		}
		err := c.fill()
		if errors.Is(err, errWouldBlock) {
			return readDrained
		}
		if err != nil {
			if !c.done.Load() && !errors.Is(err, io.EOF) {
				c.s.opts.Logger.Debug("wsepoll: read ended", "clientId", c.id, "err", err)
			}
			c.releaseInput()
			c.drop()
			return readLost
		}
	}
}

// fill reads what the socket has into the buffer, borrowing or growing it
// as needed.
func (c *conn) fill() error {
	rd := c.borrowInput()
	if rd.r == rd.w {
		rd.r, rd.w = 0, 0
	}
	if rd.w == len(rd.in) {
		if rd.r > 0 {
			rd.w = copy(rd.in, rd.in[rd.r:rd.w])
			rd.r = 0
		} else {
			size := 2 * len(rd.in)
			if rd.need > len(rd.in) {
				size = min(size, rd.need)
			}
			rd.in = append(rd.in[:rd.w:rd.w], make([]byte, size-rd.w)...)
		}
	}
	n, err := c.sock.read(rd.in[rd.w:])
	if n > 0 {
		rd.w += n
		c.lastRead.Store(c.s.now())
	}
	return err
}

// handleFrames handles every complete frame in the buffer. It reports
// false when the connection is closing or reading was handed to another
// goroutine during a lent call.
func (c *conn) handleFrames() bool {
	for {
		op, fin, payload, perr := c.nextFrame()
		if perr != nil {
			c.fail(perr)
			return false
		}
		if payload == nil {
			return true
		}
		switch op {
		case ws.OpPing:
			c.control(append(wsframe.AppendHeader(make([]byte, 0, 2+len(payload)), wsframe.OpPong, len(payload)), payload...))
			continue
		case ws.OpPong:
			continue // any input counts as an answer (lastRead)
		case ws.OpClose:
			c.peerClose(payload)
			return false
		}
		rd := c.rd
		var data []byte
		switch {
		case fin && rd.msg == nil:
			data = bytes.Clone(payload)
		case fin:
			data, rd.msg = append(rd.msg, payload...), nil
		default:
			rd.msg = append(rd.msg, payload...)
			if rd.msg == nil {
				rd.msg = []byte{}
			}
			continue
		}
		if c.closingNow() {
			continue // no data frames are taken once a close is under way
		}
		run := c.s.h.Dispatch(c, data)
		if run == nil {
			continue
		}
		if c.s.watch.Run(&c.lease, run) {
			c.write() // what this call owed; ResumeReading reads on
			return false
		}
		rd.owed = true
	}
}

func (c *conn) closingNow() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cl != nil
}

// nextFrame returns the next complete frame, unmasked in place, and
// consumes it; payload is nil when the frame is not complete yet.
func (c *conn) nextFrame() (op ws.OpCode, fin bool, payload []byte, perr *protocolError) {
	rd := c.rd
	if rd == nil {
		return 0, false, nil, nil
	}
	b := rd.in[rd.r:rd.w]
	if len(b) < 2 {
		return 0, false, nil, nil
	}
	fin, op = b[0]&0x80 != 0, ws.OpCode(b[0]&0x0f)
	masked, n, hl := b[1]&0x80 != 0, uint64(b[1]&0x7f), 2
	switch {
	case b[0]&0x70 != 0:
		return 0, false, nil, errRSV
	case op.IsReserved():
		return 0, false, nil, errOpcode
	case !masked:
		return 0, false, nil, errUnmasked
	case op.IsControl() && (!fin || n > 125):
		return 0, false, nil, errControl
	case op == ws.OpContinuation && rd.msg == nil:
		return 0, false, nil, errContinuation
	case (op == ws.OpText || op == ws.OpBinary) && rd.msg != nil:
		return 0, false, nil, errInterleaved
	}
	switch n {
	case 126:
		if len(b) < 4 {
			return 0, false, nil, nil
		}
		n, hl = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return 0, false, nil, nil
		}
		n, hl = binary.BigEndian.Uint64(b[2:]), 10
		if n>>63 != 0 {
			return 0, false, nil, errLength
		}
	}
	if !op.IsControl() && n > uint64(c.s.opts.ReadLimit)-uint64(len(rd.msg)) {
		return 0, false, nil, errTooBig
	}
	hl += 4
	size := hl + int(n)
	if len(b) < size {
		rd.need = size
		return 0, false, nil, nil
	}
	rd.need = 0
	payload = b[hl:size:size]
	ws.Cipher(payload, [4]byte(b[hl-4:hl]), 0)
	rd.r += size
	return op, fin, payload, nil
}

// fail closes the connection for a protocol error, without waiting for the
// peer's answer.
func (c *conn) fail(perr *protocolError) {
	c.s.opts.Logger.Info("wsepoll: protocol error; closing", "clientId", c.id, "reason", perr.reason)
	c.mu.Lock()
	c.closeLocked(perr.code, perr.reason, true)
	c.mu.Unlock()
	c.releaseInput()
	c.write()
}

// peerClose answers the peer's close frame with one echoing its status
// code, then drops the connection.
func (c *conn) peerClose(body []byte) {
	var code ws.StatusCode
	switch {
	case len(body) == 1:
		c.fail(errCloseBody)
		return
	case len(body) >= 2:
		code = ws.StatusCode(binary.BigEndian.Uint16(body))
	}
	c.mu.Lock()
	if c.cl == nil {
		c.queue = nil // the peer is leaving; its close is answered at once
	}
	c.closeLocked(code, "", true)
	sent := c.closeSent && !c.writing
	c.mu.Unlock()
	c.releaseInput()
	if sent {
		c.drop() // it answered our close
		return
	}
	c.write()
}
