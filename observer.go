package zocket

import (
	"context"
	"errors"
	"time"
)

// Observer receives what an App does, for tracing and metrics (package
// otelzocket implements it with OpenTelemetry). Set one with WithObserver;
// an App without one pays nothing: no call, no clock read, no allocation.
//
// Every method is called synchronously, often inside an instance's mailbox
// or with its lock held: it must be quick, must not block and must not call
// back into the App. Embed NopObserver to implement only some methods and
// to keep compiling when methods are added.
type Observer interface {
	// CallStart is called when a method call leaves the mailbox and starts
	// to run. ctx is the call's context: the caller's for App.Invoke and
	// for calls from another actor's handler (so it carries the caller's
	// span), the App's for a call from a connection, a timer or a Tell.
	// The context returned becomes the call's context, which middleware,
	// guards and the handler see (Context.Context): return ctx itself, or
	// a child carrying a span. It must be derived from ctx.
	CallStart(ctx context.Context, call CallInfo) context.Context
	// CallEnd is called when the call has run, just before it is
	// answered, with the context CallStart returned.
	CallEnd(ctx context.Context, call CallInfo, end CallEnd)
	// Activated is called when an instance finished activating (after its
	// onActivate).
	Activated(actor, id string)
	// Deactivated is called when an instance was destroyed (after its
	// onDeactivate).
	Deactivated(actor, id string)
	// Subscribed is called when a connection's subscription to an
	// instance's state or events takes effect.
	Subscribed(actor, id string, kind SubscriptionKind)
	// Unsubscribed is called when a subscription ends: the connection
	// unsubscribed or closed, or the instance was destroyed.
	Unsubscribed(actor, id string, kind SubscriptionKind)
	// Published is called after a commit sent a state change (a patch, or
	// a snapshot when that was smaller) to the instance's state
	// subscribers: frames is how many were sent, bytes their total size.
	Published(actor, id string, frames, bytes int)
}

// CallInfo describes a method call for an Observer.
type CallInfo struct {
	Actor   string
	ActorID string
	Method  string
	// ClientID is the calling connection's id; "" for App.Invoke, calls
	// from other actors, timers and Tells.
	ClientID string
	// Queued is how long the call waited in the instance's mailbox before
	// it started (0 for a call run at once on the caller's goroutine).
	Queued time.Duration
	// TraceParent and TraceState are the W3C trace context the rpc frame
	// carried (its "traceparent" and "tracestate" members, or the NATS
	// headers of the distributed mode): the remote span the call
	// continues. "" when it had none, and for calls not from a connection.
	TraceParent string
	TraceState  string
}

// Outcome is how a call ended.
type Outcome int

// The outcomes of a call.
const (
	OutcomeOK    Outcome = iota // the method returned a result
	OutcomeError                // it failed: any error but a panic
	OutcomePanic                // it panicked somewhere in its pipeline (ErrPanic)
)

// String returns "ok", "error" or "panic".
func (o Outcome) String() string {
	switch o {
	case OutcomeOK:
		return "ok"
	case OutcomeError:
		return "error"
	case OutcomePanic:
		return "panic"
	}
	return "unknown"
}

// CallEnd is how a call ended, for Observer.CallEnd.
type CallEnd struct {
	Outcome Outcome
	// Err is the error the caller received; nil for OutcomeOK.
	Err error
	// Duration is how long the call ran, from leaving the mailbox until
	// its answer was ready (Queued not included).
	Duration time.Duration
}

// SubscriptionKind says what a subscription is to.
type SubscriptionKind int

// The kinds of subscription.
const (
	SubscriptionState  SubscriptionKind = iota // state:sub: snapshot and patches
	SubscriptionEvents                         // event:sub: the instance's events
)

// String returns "state" or "events".
func (k SubscriptionKind) String() string {
	if k == SubscriptionState {
		return "state"
	}
	return "events"
}

// NopObserver is an Observer that does nothing, to embed in observers that
// implement only some methods.
type NopObserver struct{}

// CallStart returns ctx.
func (NopObserver) CallStart(ctx context.Context, _ CallInfo) context.Context { return ctx }

// CallEnd does nothing.
func (NopObserver) CallEnd(context.Context, CallInfo, CallEnd) {}

// Activated does nothing.
func (NopObserver) Activated(string, string) {}

// Deactivated does nothing.
func (NopObserver) Deactivated(string, string) {}

// Subscribed does nothing.
func (NopObserver) Subscribed(string, string, SubscriptionKind) {}

// Unsubscribed does nothing.
func (NopObserver) Unsubscribed(string, string, SubscriptionKind) {}

// Published does nothing.
func (NopObserver) Published(string, string, int, int) {}

// WithObserver sets the App's Observer (nil: none, the default).
func WithObserver(o Observer) Option { return func(a *App) { a.obs = o } }

// observeStart reads the clock and calls CallStart, when the App has an
// observer; the call's context becomes the one CallStart returns.
func (it *callItem) observeStart(o Observer) {
	it.started = time.Now()
	it.sc.base = o.CallStart(it.sc.base, it.observed())
}

// observeEnd calls CallEnd with the call's outcome.
func (it *callItem) observeEnd(o Observer, err error) {
	end := CallEnd{Outcome: OutcomeOK, Err: err, Duration: time.Since(it.started)}
	switch {
	case errors.Is(err, ErrPanic):
		end.Outcome = OutcomePanic
	case err != nil:
		end.Outcome = OutcomeError
	}
	o.CallEnd(it.sc.base, it.observed(), end)
}

// observed describes the call for the observer; it.started is set.
func (it *callItem) observed() CallInfo {
	var queued time.Duration
	if !it.enqueued.IsZero() {
		queued = it.started.Sub(it.enqueued)
	}
	return CallInfo{Actor: it.info.actor, ActorID: it.info.actorID, Method: it.method,
		ClientID: it.info.clientID, Queued: queued,
		TraceParent: it.info.trace.parent(), TraceState: it.info.trace.state()}
}

// observeUnsubscribed reports the end of every subscription in subs.
func (in *instance) observeUnsubscribed(subs []Connection, kind SubscriptionKind) {
	if o := in.app.obs; o != nil {
		for range subs {
			o.Unsubscribed(in.key.actor, in.key.id, kind)
		}
	}
}

// traceContext is an rpc's W3C trace context.
type traceContext struct{ traceParent, traceState string }

func newTraceContext(parent, state string) *traceContext {
	if parent == "" && state == "" {
		return nil
	}
	return &traceContext{parent, state}
}

func (t *traceContext) parent() string {
	if t == nil {
		return ""
	}
	return t.traceParent
}

func (t *traceContext) state() string {
	if t == nil {
		return ""
	}
	return t.traceState
}
