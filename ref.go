package zocket

import (
	"context"
	"fmt"
)

// Ref names one instance of a registered actor type, for calls from server
// code that should not repeat the actor's name at every call:
//
//	room := app.Ref("chat", "general")
//	n, err := SendMessage.Call(ctx, room, msg)
//	history, err := GetMessages.Call(ctx, room, zocket.None{})
//
// A Ref is a plain value: making one creates nothing; the instance is
// created by the first call, as for App.Invoke.
type Ref struct {
	app       *App
	actor, id string
}

// Ref returns a reference to instance id of the actor type registered as
// actor.
func (a *App) Ref(actor, id string) Ref { return Ref{app: a, actor: actor, id: id} }

// App returns the App the reference belongs to.
func (r Ref) App() *App { return r.app }

// Actor returns the actor type's registered name.
func (r Ref) Actor() string { return r.actor }

// ID returns the instance's id.
func (r Ref) ID() string { return r.id }

// Call calls the method on the instance r names and decodes its result,
// as Invoke does (from a handler, pass c.Context() so that call cycles are
// detected). in is the input, of the method's input type: None{} for a
// method declared without input (MethodNoInput, MethodNoIO), as for
// Invoke, Tell and the timers. A zero Ref fails the call.
func (m *MethodDef[S, C, I, O]) Call(ctx context.Context, r Ref, in I) (O, error) {
	if r.app == nil {
		var out O
		return out, fmt.Errorf("zocket: %s called on a zero Ref", m.name)
	}
	return m.Invoke(ctx, r.app, r.actor, r.id, in)
}

// CallNoInput calls a method declared without input (MethodNoInput,
// MethodNoIO) on the instance r names: m.Call(ctx, r, None{}) without the
// None{}. Go infers every type parameter from m.
func CallNoInput[S, C, O any](ctx context.Context, r Ref, m *MethodDef[S, C, None, O]) (O, error) {
	return m.Call(ctx, r, None{})
}
