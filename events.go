package zocket

import (
	"encoding/json"
	"reflect"
	"slices"

	"github.com/zocket-go/zocket/internal/jsonvalue"
)

// ActorContext is anything events can be emitted from: a method's *Context or a
// hook's *Lifecycle.
type ActorContext interface {
	turn() *turn
}

// AnyEvent is a declared event, as built by Event.
type AnyEvent interface {
	// Name is the event's wire name.
	Name() string
	// conform turns an emitted payload into the declared payload type.
	conform(payload any) (any, error)
	// payloadType is P, for the registration checks.
	payloadType() reflect.Type
}

// EventDef is a typed event descriptor with payload type P.
type EventDef[P any] struct{ name string }

// Event declares an event with payload type P. Payloads that are structs (or
// pointers to structs) are validated with `validate` tags when dispatched;
// an invalid payload is dropped and logged, and the call still succeeds.
func Event[P any](name string) *EventDef[P] { return &EventDef[P]{name: name} }

// Name is the event's wire name.
func (e *EventDef[P]) Name() string { return e.name }

func (e *EventDef[P]) payloadType() reflect.Type { return reflect.TypeFor[P]() }

// conform returns a payload of type P as is; any other value (an untyped
// Emit) is converted through JSON into a P, the counterpart of the TS
// schema's output: unknown members are dropped, Defaulter fills defaults,
// and a value of the wrong shape is an error.
func (e *EventDef[P]) conform(payload any) (any, error) {
	if p, ok := payload.(P); ok {
		return p, nil
	}
	b, err := jsonvalue.Marshal(payload)
	if err != nil {
		return nil, err
	}
	var p P
	if d, ok := any(&p).(Defaulter); ok {
		d.SetDefaults()
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, err
	}
	return p, nil
}

// Broadcast sends payload to every event subscriber of the instance, after
// the call commits.
func (e *EventDef[P]) Broadcast(c ActorContext, payload P) { Emit(c, e.name, payload).Broadcast() }

// To sends payload to the event subscribers among ids, after the call commits.
func (e *EventDef[P]) To(c ActorContext, payload P, ids ...string) {
	Emit(c, e.name, payload).To(ids...)
}

// Except sends payload to the event subscribers not among ids, after the call
// commits.
func (e *EventDef[P]) Except(c ActorContext, payload P, ids ...string) {
	Emit(c, e.name, payload).Except(ids...)
}

type target uint8

const (
	toAll target = iota
	toSome
	toAllExcept
)

// Emission is a pending event, the untyped form of EventDef for dynamic use.
// Nothing is sent until a terminal (Broadcast, To or Except) is called; only
// the first terminal counts, and emissions go out in terminal order after the
// call commits. A terminal called after the handler returned is dropped.
type Emission struct {
	sc      *turn
	name    string
	payload any
	done    bool
}

// Emit starts an emission of the named event.
func Emit(c ActorContext, name string, payload any) *Emission {
	return &Emission{sc: c.turn(), name: name, payload: payload}
}

// Broadcast sends to every event subscriber.
func (e *Emission) Broadcast() { e.finish(toAll, nil) }

// To sends to the event subscribers among ids.
func (e *Emission) To(ids ...string) { e.finish(toSome, ids) }

// Except sends to the event subscribers not among ids.
func (e *Emission) Except(ids ...string) { e.finish(toAllExcept, ids) }

func (e *Emission) finish(t target, ids []string) {
	if e.done {
		return
	}
	e.done = true
	e.sc.emit(pendingEvent{name: e.name, payload: e.payload, target: t, ids: slices.Clone(ids)})
}

type pendingEvent struct {
	name    string
	payload any
	target  target
	ids     []string
}

func (ev *pendingEvent) reaches(id string) bool {
	switch ev.target {
	case toSome:
		return slices.Contains(ev.ids, id)
	case toAllExcept:
		return !slices.Contains(ev.ids, id)
	}
	return true
}
