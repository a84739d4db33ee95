package zocket

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/go-playground/validator/v10"

	"github.com/zocket-go/zocket/internal/jsonvalue"
)

// NoData is the middleware context of actors built without middleware.
type NoData struct{}

// None stands for "no input" or "no result" in method descriptor types.
type None struct{}

// Actor is the definition of an actor type: its state type S, the context
// type C its middleware chain produces, its methods, events and hooks.
// Build it with NewActor (no middleware) or NewActorWith (a Chain), then
// register it on an App. The builder methods modify and return the receiver.
type Actor[S, C any] struct {
	chain        *Chain[C]
	init         func() S
	methods      []AnyMethod[S, C]
	events       []AnyEvent
	onActivate   func(*Lifecycle[S]) error
	onDeactivate func(*Lifecycle[S]) error
	onConnect    func(*Lifecycle[S]) error
	onDisconnect func(*Lifecycle[S]) error
	onSubscribe  func(context.Context, Request[C]) error // subscribe.go
	cron         []cronEntry
	durability   Durability    // durable.go
	idleTimeout  time.Duration // passivate.go
	idleSet      bool
}

// NewActor starts the definition of an actor type with state S and no
// middleware. Fresh instances start from S's zero value unless Initial is set.
func NewActor[S any]() *Actor[S, NoData] {
	return &Actor[S, NoData]{}
}

// NewActorWith starts the definition of an actor type whose method calls run
// through the middleware chain ch; handlers see the chain's result as c.Data.
func NewActorWith[S, C any](ch *Chain[C]) *Actor[S, C] {
	return &Actor[S, C]{chain: ch}
}

// Initial sets the function that builds a fresh instance's state.
func (a *Actor[S, C]) Initial(fn func() S) *Actor[S, C] { a.init = fn; return a }

// Methods declares methods; build them with Method, MethodNoInput,
// MethodNoResult or MethodNoIO.
func (a *Actor[S, C]) Methods(ms ...AnyMethod[S, C]) *Actor[S, C] {
	a.methods = append(a.methods, ms...)
	return a
}

// Events declares the events instances may emit; an emission of an
// undeclared name is dropped and logged.
func (a *Actor[S, C]) Events(es ...AnyEvent) *Actor[S, C] {
	a.events = append(a.events, es...)
	return a
}

// OnActivate runs once when an instance is created, before it handles any
// message; its state changes are part of every snapshot.
func (a *Actor[S, C]) OnActivate(fn func(*Lifecycle[S]) error) *Actor[S, C] {
	a.onActivate = fn
	return a
}

// OnDeactivate runs when an instance is destroyed (App.Destroy,
// App.DestroyAll, App.Close), after everything already queued.
func (a *Actor[S, C]) OnDeactivate(fn func(*Lifecycle[S]) error) *Actor[S, C] {
	a.onDeactivate = fn
	return a
}

// OnConnect runs, through the mailbox, the first time a connection interacts
// with an instance (an rpc, event:sub or state:sub), before that rpc.
func (a *Actor[S, C]) OnConnect(fn func(*Lifecycle[S]) error) *Actor[S, C] {
	a.onConnect = fn
	return a
}

// OnDisconnect runs, through the mailbox, when a connection that interacted
// with an instance closes; c.Clients() no longer contains it.
func (a *Actor[S, C]) OnDisconnect(fn func(*Lifecycle[S]) error) *Actor[S, C] {
	a.onDisconnect = fn
	return a
}

// Context is what a method handler receives.
type Context[S, C any] struct {
	// State is the draft: mutate it freely; it is committed when the
	// handler returns without error and discarded otherwise. Replacing it
	// (c.State = &S{...}) replaces the whole state: a deep copy of the
	// value it points to when the handler returns (or calls Flush) is what
	// commits. Setting it to nil fails the call with ErrStateNil.
	State *S
	// Data is the middleware chain's result.
	Data C
	// ClientID is the caller's connection id; "" for App.Invoke.
	ClientID string
	// Identity is what the caller's transport authenticated.
	Identity Identity
	// Actor, ActorID and Method name the call.
	Actor, ActorID, Method string

	sc *turn
}

// Context returns the call's context.Context: cancelled when the App closes,
// or the caller's context for App.Invoke.
func (c *Context[S, C]) Context() context.Context { return c.sc.context() }

// App returns the App the instance belongs to, for calls to other actors.
func (c *Context[S, C]) App() *App { return c.sc.inst.app }

// Clients returns the ids of the connections that have interacted with this
// instance and not closed (even if they unsubscribed), in no particular order.
func (c *Context[S, C]) Clients() []string { return c.sc.clients() }

func (c *Context[S, C]) turn() *turn { return c.sc }

// Lifecycle is what lifecycle hooks receive. ClientID and Identity are empty
// in OnActivate and OnDeactivate.
type Lifecycle[S any] struct {
	// State is the draft, as in Context.State (which says how replacing
	// it works).
	State          *S
	ClientID       string
	Identity       Identity
	Actor, ActorID string
	sc             *turn
}

// Context returns the App's context (cancelled when the App closes).
func (c *Lifecycle[S]) Context() context.Context { return c.sc.context() }

// App returns the App the instance belongs to.
func (c *Lifecycle[S]) App() *App { return c.sc.inst.app }

// Clients returns the ids of the connections known to the instance; in
// OnDisconnect the departing one is no longer among them.
func (c *Lifecycle[S]) Clients() []string { return c.sc.clients() }

func (c *Lifecycle[S]) turn() *turn { return c.sc }

// AnyMethod is a method of an actor with state S and context C, as built by
// Method and its variants.
type AnyMethod[S, C any] interface {
	// Name is the method's wire name.
	Name() string
	check(v *validator.Validate) error
	prepare(v *validator.Validate, raw json.RawMessage) (func(*Context[S, C]) (json.RawMessage, error), error)
	runGuards(ctx context.Context, r Request[C]) error
	streaming() time.Duration
}

// MethodDef is a typed method descriptor: input I, result O (None where the
// method has no input or no result). The same value serves the server
// (Actor.Methods), server-side calls (Invoke) and typed clients.
type MethodDef[S, C, I, O any] struct {
	name        string
	fn          func(*Context[S, C], I) (O, error)
	hasInput    bool
	hasResult   bool
	streamEvery time.Duration // 0: not streaming
	guards      []func(context.Context, Request[C]) error

	shapeOnce sync.Once
	shape     *shape // the input's required members; nil: nothing to check
}

// Method declares a method with input I and result O. The input is decoded
// from JSON and validated with `validate` struct tags before middleware runs.
//
// As in a TypeScript schema, the input is required (an absent or null
// input fails unless I is a pointer, an interface or a type that decodes
// itself, such as json.RawMessage), and so is every member of a struct
// input and of the structs inside it: a member is optional only when its
// type is a pointer or an interface, its json tag has omitempty or
// omitzero, or the input's Defaulter gives it a non-zero default (nested
// members too). An absent or null required member fails validation.
// `validate:"required"` additionally rejects a present zero value ("" or
// 0). Register reports a `validate` tag the validator does not know.
//
// The text of an error fn returns is sent to the client as is, as in the
// TypeScript server: an error such as "db: connect postgres://admin:…"
// leaks its details. Return errors meant for users, or serve the App with
// WithPublicErrorsOnly, under which only errors marked with PublicError
// reach clients and the rest become "Internal error" (logged in full).
func Method[S, C, I, O any](name string, fn func(c *Context[S, C], in I) (O, error)) *MethodDef[S, C, I, O] {
	return &MethodDef[S, C, I, O]{name: name, fn: fn, hasInput: true, hasResult: true}
}

// MethodNoInput declares a method without input; whatever the client sends
// as input is ignored.
func MethodNoInput[S, C, O any](name string, fn func(c *Context[S, C]) (O, error)) *MethodDef[S, C, None, O] {
	m := &MethodDef[S, C, None, O]{name: name, hasResult: true}
	if fn != nil {
		m.fn = func(c *Context[S, C], _ None) (O, error) { return fn(c) }
	}
	return m
}

// MethodNoResult declares a method with input and no result: its rpc:result
// carries no "result" member. Its input is checked as Method says.
func MethodNoResult[S, C, I any](name string, fn func(c *Context[S, C], in I) error) *MethodDef[S, C, I, None] {
	m := &MethodDef[S, C, I, None]{name: name, hasInput: true}
	if fn != nil {
		m.fn = func(c *Context[S, C], in I) (None, error) { return None{}, fn(c, in) }
	}
	return m
}

// MethodNoIO declares a method with neither input nor result.
func MethodNoIO[S, C any](name string, fn func(c *Context[S, C]) error) *MethodDef[S, C, None, None] {
	m := &MethodDef[S, C, None, None]{name: name}
	if fn != nil {
		m.fn = func(c *Context[S, C], _ None) (None, error) { return None{}, fn(c) }
	}
	return m
}

// Name is the method's wire name.
func (m *MethodDef[S, C, I, O]) Name() string { return m.name }

// HasInput reports whether the method takes input.
func (m *MethodDef[S, C, I, O]) HasInput() bool { return m.hasInput }

// HasResult reports whether the method returns a result.
func (m *MethodDef[S, C, I, O]) HasResult() bool { return m.hasResult }

// check is the registration check of the method: a handler, and `validate`
// tags the validator can run on the input.
func (m *MethodDef[S, C, I, O]) check(v *validator.Validate) error {
	if m.fn == nil {
		return errors.New("handler is nil")
	}
	if !m.hasInput {
		return nil
	}
	if err := checkTags(v, reflect.TypeFor[I]()); err != nil {
		return fmt.Errorf("input: %w", err)
	}
	m.inputShape()
	return nil
}

// inputShape returns the members the input requires, computed once.
func (m *MethodDef[S, C, I, O]) inputShape() *shape {
	m.shapeOnce.Do(func() { m.shape = inputShapeOf[I]() })
	return m.shape
}

func (m *MethodDef[S, C, I, O]) prepare(v *validator.Validate, raw json.RawMessage) (func(*Context[S, C]) (json.RawMessage, error), error) {
	var in I
	if m.hasInput {
		var err error
		if in, err = decodeInput[I](v, m.name, m.inputShape(), raw); err != nil {
			return nil, err
		}
	}
	return func(c *Context[S, C]) (json.RawMessage, error) {
		out, err := m.fn(c, in)
		if err != nil || !m.hasResult {
			return nil, err
		}
		return encodeResult(out)
	}, nil
}

// encodeResult encodes a handler's result. A nil interface means "returned
// nothing" and leaves out the result member.
func encodeResult(out any) (json.RawMessage, error) {
	if out == nil {
		return nil, nil
	}
	b, err := jsonvalue.Marshal(out)
	if err != nil {
		return nil, &CallError{Message: err.Error(), Kind: ErrEncode}
	}
	return b, nil
}

// Invoke calls the method on instance (actor, actorID) of app from server
// code, without a connection, and decodes its result. actor is the name the
// method's actor type is registered under; a descriptor that actor type
// does not declare (another type's method of the same name) is refused with
// ErrUnknownMethod before anything runs.
func (m *MethodDef[S, C, I, O]) Invoke(ctx context.Context, app *App, actor, actorID string, in I) (O, error) {
	var out O
	if err := m.declaredBy(app, actor); err != nil {
		return out, err
	}
	var input json.RawMessage
	if m.hasInput {
		b, err := jsonvalue.Marshal(in)
		if err != nil {
			return out, err
		}
		input = b
	}
	raw, err := app.Invoke(ctx, actor, actorID, m.name, input)
	if err != nil || !m.hasResult || raw == nil {
		return out, err
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return out, err
	}
	return out, nil
}

// declaredBy reports, as a *CallError, that the actor type registered as
// actor does not declare this very descriptor. An unknown actor passes: the
// call itself reports it.
func (m *MethodDef[S, C, I, O]) declaredBy(app *App, actor string) error {
	at, ok := app.actor(actor)
	if !ok || at.declares(m.name, m) {
		return nil
	}
	return &CallError{Message: fmt.Sprintf("Unknown method: %s (actor %s declares another method of that name)",
		m.name, actor), Kind: ErrUnknownMethod}
}
