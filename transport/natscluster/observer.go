package natscluster

import (
	"context"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The NATS headers of an INBOUND message that carry the W3C trace context
// of the gateway's span for a forwarded rpc (the values of the HTTP
// headers of the same names). A runtime hands them to the App as the rpc's
// trace context (zocket.CallInfo.TraceParent), in place of the frame's own
// "traceparent" and "tracestate" members.
const (
	HeaderTraceParent = "traceparent"
	HeaderTraceState  = "tracestate"
)

// Observer receives what a Gateway or a Runtime does with JetStream, for
// tracing and metrics; package otelzocket implements it with
// OpenTelemetry. Set one with GatewayOptions.Observer and
// RuntimeOptions.Observer; without one nothing is measured.
//
// Methods are called synchronously on the gateway's and the runtime's
// goroutines: they must be quick and must not block. Embed NopObserver to
// implement only some methods.
type Observer interface {
	// ForwardStart is called when a gateway is about to publish a client's
	// rpc to INBOUND. The context returned is the forward's (ctx, or a
	// child carrying a span); ForwardEnd gets it.
	ForwardStart(ctx context.Context, rpc RPC) context.Context
	// TraceContext returns the W3C trace context of the forward's context
	// ("" when it has none), which the gateway sends in the message's
	// HeaderTraceParent and HeaderTraceState headers.
	TraceContext(ctx context.Context) (traceparent, tracestate string)
	// ForwardEnd is called when JetStream acknowledged the forward's
	// publish, or it failed.
	ForwardEnd(ctx context.Context, rpc RPC, p Publish)
	// PublishDone is called for every JetStream publish once it was
	// acknowledged or failed: a gateway's client frames to INBOUND, a
	// runtime's server messages to OUTBOUND.
	PublishDone(p Publish)
	// SlowConsumerClosed is called when a gateway closes a client whose
	// outbound queue overflowed (GatewayOptions.SendQueue). Its signature
	// fits the WebSocket transports' OnSlowConsumer option too.
	SlowConsumerClosed(sessionID string)
}

// RPC describes a client's rpc that a gateway forwards.
type RPC struct {
	SessionID              string
	Actor, ActorID, Method string
	// TraceParent and TraceState are the client's W3C trace context, the
	// frame's "traceparent" and "tracestate" members; "" when absent.
	TraceParent, TraceState string
}

// Role says which side of the cluster published.
type Role int

// The roles.
const (
	RoleGateway Role = iota // client frames to INBOUND
	RoleRuntime             // server messages to OUTBOUND
)

// String returns "gateway" or "runtime".
func (r Role) String() string {
	if r == RoleGateway {
		return "gateway"
	}
	return "runtime"
}

// Publish is how one JetStream publish ended.
type Publish struct {
	Role Role
	// Duration runs from the publish to JetStream's acknowledgement (or to
	// the failure).
	Duration time.Duration
	// Err is why the publish failed; nil when it was acknowledged.
	Err error
}

// NopObserver is an Observer that does nothing, to embed.
type NopObserver struct{}

// ForwardStart returns ctx.
func (NopObserver) ForwardStart(ctx context.Context, _ RPC) context.Context { return ctx }

// TraceContext returns no trace context.
func (NopObserver) TraceContext(context.Context) (traceparent, tracestate string) { return "", "" }

// ForwardEnd does nothing.
func (NopObserver) ForwardEnd(context.Context, RPC, Publish) {}

// PublishDone does nothing.
func (NopObserver) PublishDone(Publish) {}

// SlowConsumerClosed does nothing.
func (NopObserver) SlowConsumerClosed(string) {}

// forward is an rpc that a gateway's Observer follows.
type forward struct {
	ctx context.Context
	rpc RPC
}

// traceHeader returns the headers that carry fwd's trace context, or nil.
func traceHeader(o Observer, fwd *forward) nats.Header {
	parent, state := o.TraceContext(fwd.ctx)
	if parent == "" {
		return nil
	}
	h := nats.Header{HeaderTraceParent: {parent}}
	if state != "" {
		h.Set(HeaderTraceState, state)
	}
	return h
}

// pubClock times a runtime's asynchronous publishes: the JetStream ack and
// error handlers find the start of each by its message. A nil *pubClock
// (no Observer) does nothing.
type pubClock struct {
	o      Observer
	starts sync.Map // *nats.Msg → time.Time
}

// start notes that m is being published.
func (c *pubClock) start(m *nats.Msg) {
	if c != nil {
		c.starts.Store(m, time.Now())
	}
}

// done reports the publish of m, once.
func (c *pubClock) done(m *nats.Msg, err error) {
	if c == nil {
		return
	}
	if at, ok := c.starts.LoadAndDelete(m); ok {
		c.o.PublishDone(Publish{Role: RoleRuntime, Duration: time.Since(at.(time.Time)), Err: err})
	}
}

// ackHandler is the JetStream option that reports acknowledged publishes.
func (c *pubClock) ackHandler() jetstream.JetStreamOpt {
	return jetstream.WithPublishAsyncAckHandler(func(_ jetstream.JetStream, m *nats.Msg, _ *jetstream.PubAck) {
		c.done(m, nil)
	})
}
