package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/zocket-go/zocket/protocol"
)

// run is the client's goroutine: dial, read until the socket ends,
// reconnect with backoff, until Close.
func (c *Client) run() {
	defer close(c.done)
	attempt := 0
	for {
		sock, err := c.dial()
		if err == nil {
			attempt = 0
			c.opened1(sock)
			reason := c.readLoop(sock)
			if !c.dropped(sock, reason) {
				return
			}
		} else if c.ctx.Err() != nil {
			return
		} else if stopCause(err) {
			c.stop(err)
			return
		} else {
			c.opts.Logger.Debug("client: dial failed", "url", c.url, "err", err)
			if c.opts.NoReconnect {
				return // status stays Connecting; waiting RPCs time out
			}
		}
		attempt++
		t := time.NewTimer(c.opts.ReconnectDelay(attempt))
		select {
		case <-c.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (c *Client) dial() (Socket, error) {
	ctx := c.ctx
	if d := c.opts.ConnectTimeout; d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	return c.opts.Dial(ctx, c.url)
}

// opened1 runs when a socket opens, in this order: connected, status,
// ready, subscriptions of live handles re-sent in creation order, then the
// RPCs that waited for a socket go on.
func (c *Client) opened1(sock Socket) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		sock.Close()
		return
	}
	c.sock = sock
	fns := c.setStatusLocked(Connected)
	handles := c.orderedHandlesLocked()
	waiters := c.opened
	c.mu.Unlock()
	notify(fns, Connected)
	c.settleReady(nil)
	for _, h := range handles {
		h.resubscribe()
	}
	close(waiters)
}

// dropped handles the end of a socket: pending RPCs fail with the close
// reason, the status moves on. It reports whether to reconnect.
func (c *Client) dropped(sock Socket, readErr error) bool {
	reason := ""
	var ce *CloseError
	if errors.As(readErr, &ce) {
		reason = ce.Reason
	}
	lost := errLost(reason)
	final := stopCause(readErr)
	if final {
		lost = fmt.Errorf("%w: %w", lost, readErr)
	}
	c.mu.Lock()
	if c.sock != sock { // Close already took it
		c.mu.Unlock()
		return false
	}
	c.sock = nil
	c.clientID = ""
	c.opened = make(chan struct{})
	pending := c.pending
	c.pending = map[string]*pendingCall{}
	next := Reconnecting
	if c.opts.NoReconnect {
		next = Disconnected
	}
	var fns []func(Status)
	if final {
		next, fns = Disconnected, c.stopLocked(readErr)
	} else {
		fns = c.setStatusLocked(next)
	}
	c.mu.Unlock()
	sock.Close()
	for _, p := range pending {
		p.settle(nil, lost)
	}
	if final {
		c.logStop(readErr)
	}
	notify(fns, next)
	return next == Reconnecting
}

// stop ends the client's attempts for cause, which reconnecting would not
// cure (see stopLocked).
func (c *Client) stop(cause error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	fns := c.stopLocked(cause)
	c.mu.Unlock()
	c.logStop(cause)
	notify(fns, Disconnected)
	c.settleReady(cause)
}

// stopLocked records cause for Err, moves the status to
// Disconnected and wakes the RPCs waiting for a socket, which then fail
// with cause. It returns the status listeners to call. The caller holds
// c.mu.
func (c *Client) stopLocked(cause error) []func(Status) {
	c.stopErr = cause
	close(c.opened)
	return c.setStatusLocked(Disconnected)
}

func (c *Client) logStop(cause error) {
	c.opts.Logger.Error("client: stopped, reconnecting would not help", "url", c.url, "err", cause)
}

// readLoop routes incoming frames until the socket ends.
func (c *Client) readLoop(sock Socket) error {
	for {
		frame, err := sock.Read()
		if err != nil {
			return err
		}
		m, err := protocol.Parse(frame)
		if err != nil {
			c.opts.Logger.Debug("client: frame ignored", "err", err)
			continue
		}
		switch m.Type {
		case protocol.TypeWelcome:
			c.mu.Lock()
			c.clientID = m.ClientID
			c.mu.Unlock()
		case protocol.TypeRPCResult:
			c.result(&m)
		case protocol.TypeRPCStream:
			c.chunk(&m)
		case protocol.TypeEvent, protocol.TypeStateSnapshot, protocol.TypeStatePatch:
			c.mu.Lock()
			h := c.handles[handleKey{m.Actor, m.ActorID}]
			c.mu.Unlock()
			if h != nil {
				h.receive(&m)
			}
		}
	}
}

func (c *Client) result(m *protocol.Message) {
	var id string
	if json.Unmarshal(m.ID, &id) != nil {
		return
	}
	c.mu.Lock()
	p := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if p == nil {
		return // unknown or late: ignored
	}
	if m.HasError {
		msg := m.Error
		p.settle(nil, &ServerError{Message: msg})
		return
	}
	p.settle(m.Result, nil)
}

// chunk hands an rpc:stream chunk to its pending call.
func (c *Client) chunk(m *protocol.Message) {
	var id string
	if json.Unmarshal(m.ID, &id) != nil {
		return
	}
	c.mu.Lock()
	p := c.pending[id]
	c.mu.Unlock()
	if p != nil && p.onChunk != nil {
		p.onChunk(m.Chunk)
	}
}

// writeTimeout bounds one socket write, so that a stuck socket cannot hold
// the write lock for every other sender.
const writeTimeout = 10 * time.Second

// send writes a frame on the open socket; it fails when there is none.
func (c *Client) send(ctx context.Context, frame []byte) error {
	c.mu.Lock()
	sock := c.sock
	c.mu.Unlock()
	if sock == nil {
		return errNotConnected
	}
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return sock.Write(ctx, frame)
}

// sendBestEffort sends a subscription frame if connected; frames sent
// while disconnected are dropped, and resubscription after the next open
// brings the server back in line.
func (c *Client) sendBestEffort(frame []byte) {
	if err := c.send(c.ctx, frame); err != nil && !errors.Is(err, ErrNotConnected) {
		c.opts.Logger.Debug("client: subscription frame not sent", "err", err)
	}
}
