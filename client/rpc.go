package client

import (
	"context"
	"encoding/json"
	"time"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/jsonvalue"
	"github.com/zocket-go/zocket/protocol"
)

type pendingCall struct {
	done    chan struct{}
	result  json.RawMessage
	err     error
	onChunk func(json.RawMessage) // rpc:stream chunks; nil: ignored
}

func (p *pendingCall) settle(result json.RawMessage, err error) {
	p.result, p.err = result, err
	close(p.done)
}

// CallRaw calls method on instance (actor, actorID) with input as its JSON
// input (nil: no input) and returns the JSON result (nil when the method
// returned nothing). It waits for a socket
// within the RPC timeout, is never sent late, and is rejected, not re-sent,
// when the socket drops.
func (c *Client) CallRaw(ctx context.Context, actor, actorID, method string, input json.RawMessage) (json.RawMessage, error) {
	return c.callRaw(ctx, actor, actorID, method, input, nil)
}

// CallStreamRaw is CallRaw for a method that streams partial results:
// onChunk receives each rpc:stream chunk, in order, on the client's
// goroutine, before the call returns.
func (c *Client) CallStreamRaw(ctx context.Context, actor, actorID, method string, input json.RawMessage,
	onChunk func(chunk json.RawMessage)) (json.RawMessage, error) {
	return c.callRaw(ctx, actor, actorID, method, input, onChunk)
}

func (c *Client) callRaw(ctx context.Context, actor, actorID, method string, input json.RawMessage,
	onChunk func(json.RawMessage)) (json.RawMessage, error) {
	id := c.nextID()
	start := time.Now()
	timeout := c.opts.RPCTimeout
	var budget <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		budget = t.C
	}
	// Wait for a socket.
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, errClientIsClosed
		}
		sock, opened, status, stopErr := c.sock, c.opened, c.status, c.stopErr
		c.mu.Unlock()
		if sock != nil {
			break
		}
		if stopErr != nil {
			return nil, errStopped(stopErr)
		}
		if status == Disconnected {
			return nil, errNotConnected
		}
		select {
		case <-opened:
		case <-budget:
			return nil, errNotReady(timeout)
		case <-c.ctx.Done():
			return nil, errClientClosed
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if timeout > 0 && time.Since(start) >= timeout {
		return nil, errRPCTimeout(method, timeout)
	}
	p := &pendingCall{done: make(chan struct{}), onChunk: onChunk}
	c.mu.Lock()
	if c.sock == nil {
		c.mu.Unlock()
		return nil, errNotConnected
	}
	c.pending[id] = p
	c.mu.Unlock()
	frame := protocol.AppendRPC(nil, json.RawMessage(`"`+id+`"`), actor, actorID, method, input)
	if err := c.send(ctx, frame); err != nil {
		c.forget(id)
		return nil, errSend(method)
	}
	select {
	case <-p.done:
		return p.result, p.err
	case <-budget:
		c.forget(id)
		return nil, errRPCTimeout(method, timeout)
	case <-ctx.Done():
		c.forget(id)
		return nil, ctx.Err()
	}
}

func (c *Client) forget(id string) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// Call calls a method through its descriptor, typed: the compiler checks
// the input and result types. For methods without input pass zocket.None{}.
// A server error is a *ServerError (errors.Is(err, ErrServer)).
func Call[S, C, I, O any](ctx context.Context, h *Handle, m *zocket.MethodDef[S, C, I, O], in I) (O, error) {
	return callTyped(ctx, h, m, in, nil)
}

// CallStream calls a streaming method through its descriptor; onChunk gets
// every partial result decoded into K, then CallStream returns the result.
func CallStream[S, C, I, O, K any](ctx context.Context, h *Handle, m *zocket.MethodDef[S, C, I, O], in I,
	onChunk func(K)) (O, error) {
	c := h.core.c
	return callTyped(ctx, h, m, in, func(chunk json.RawMessage) {
		var k K
		if err := json.Unmarshal(chunk, &k); err != nil {
			c.opts.Logger.Warn("client: chunk does not decode", "method", m.Name(), "err", err)
			return
		}
		onChunk(k)
	})
}

func callTyped[S, C, I, O any](ctx context.Context, h *Handle, m *zocket.MethodDef[S, C, I, O], in I,
	onChunk func(json.RawMessage)) (O, error) {
	var out O
	var input json.RawMessage
	if m.HasInput() {
		b, err := jsonvalue.Marshal(in)
		if err != nil {
			return out, err
		}
		input = b
	}
	raw, err := h.core.c.callRaw(ctx, h.core.key.actor, h.core.key.id, m.Name(), input, onChunk)
	if err != nil || !m.HasResult() || raw == nil {
		return out, err
	}
	err = json.Unmarshal(raw, &out)
	return out, err
}

// Call calls method with input encoded as JSON (nil: no input).
func (h *Handle) Call(ctx context.Context, method string, input any) (json.RawMessage, error) {
	var raw json.RawMessage
	if input != nil {
		b, err := jsonvalue.Marshal(input)
		if err != nil {
			return nil, err
		}
		raw = b
	}
	return h.core.c.CallRaw(ctx, h.core.key.actor, h.core.key.id, method, raw)
}
