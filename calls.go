package zocket

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/zocket-go/zocket/internal/jsonvalue"
)

// ErrCycle rejects a synchronous actor-to-actor call that would wait on an
// instance already waiting on this call (A calls B, B calls A): without
// the check both mailboxes would block until a timeout.
var ErrCycle = errors.New("zocket: call cycle")

// Actor-to-actor calls. From a handler, call another instance with the
// method descriptor's Invoke and the handler's context, which carries the
// call chain:
//
//	n, err := Count.Invoke(c.Context(), c.App(), "tools", "t1", in)
//
// The call waits (bounded by the context: derive one with a deadline) while
// the calling instance's mailbox stays busy; calls to different instances
// run in parallel. A call back into an instance already on the chain fails
// at once with ErrCycle. Tell sends without waiting.

// checkCycle fails when target is on the synchronous call chain in ctx.
func checkCycle(ctx context.Context, target key) error {
	chain, _ := ctx.Value(chainKey{}).([]key)
	for _, k := range chain {
		if k == target {
			return &CallError{Message: "Call cycle: " + chainString(chain, target), Kind: ErrCycle}
		}
	}
	return nil
}

// pendingTell is a fire-and-forget call buffered until the caller commits.
type pendingTell struct {
	actor, id, method string
	input             json.RawMessage
}

// Tell calls the method on instance (actor, id) without waiting for it.
// Called from a handler or hook, the call is sent when the caller commits
// (a failed call sends nothing), like its events. A Tell that fails is
// logged, with the error, by the App's logger; so is a Tell with a
// descriptor that the target actor type does not declare, which is dropped.
func (m *MethodDef[S, C, I, O]) Tell(from ActorContext, actor, id string, in I) {
	sc := from.turn()
	if err := m.declaredBy(sc.inst.app, actor); err != nil {
		sc.inst.app.log.Error("zocket: tell dropped", "actor", actor, "method", m.name, "err", err)
		return
	}
	var input json.RawMessage
	if m.hasInput {
		b, err := jsonvalue.Marshal(in)
		if err != nil {
			sc.inst.app.log.Error("zocket: tell input not encodable; dropped", "method", m.name, "err", err)
			return
		}
		input = b
	}
	if sc.closed {
		sc.inst.app.log.Warn("zocket: tell after its handler returned; dropped", "method", m.name)
		return
	}
	sc.tells = append(sc.tells, pendingTell{actor: actor, id: id, method: m.name, input: input})
}

// sendTells enqueues committed fire-and-forget calls. They start a fresh
// call chain: nobody waits on them, so they cannot deadlock.
func (a *App) sendTells(tells []pendingTell) {
	for _, t := range tells {
		a.tell(t)
	}
}

func (a *App) tell(t pendingTell) {
	at, ok := a.actor(t.actor)
	if !ok {
		a.log.Error("zocket: tell to unknown actor", "actor", t.actor, "method", t.method)
		return
	}
	item := &callItem{method: t.method, input: t.input, internal: true,
		info: callInfo{actor: t.actor, actorID: t.id, method: t.method}}
	if err := a.withInstance(key{t.actor, t.id}, at, func(in *instance) {
		item.sc = newTurn(a.ctx, in)
		in.pushLocked(work{call: item})
	}); err != nil {
		a.log.Error("zocket: tell dropped", "actor", t.actor, "actorId", t.id, "method", t.method, "err", err)
	}
}
