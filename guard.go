package zocket

import "context"

// Guard adds a check that runs for this method only, after the actor's
// middleware, with its typed context: the per-method counterpart of
// Chain.Check, instead of a switch on r.Method in the chain. A guard that
// returns an error rejects the call with the error's text; later guards and
// the handler do not run, and the state is unchanged. Guards run in the
// order they were added, for calls from connections and App.Invoke, not for
// calls the server makes to itself (Tell, timers), which skip middleware.
// It modifies and returns the receiver; add guards before registering.
func (m *MethodDef[S, C, I, O]) Guard(fn func(ctx context.Context, r Request[C]) error) *MethodDef[S, C, I, O] {
	m.guards = append(m.guards, fn)
	return m
}

func (m *MethodDef[S, C, I, O]) runGuards(ctx context.Context, r Request[C]) error {
	for _, g := range m.guards {
		if err := g(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// request is what middleware and guards see of a call.
func request[C any](c C, ci *callInfo) Request[C] {
	return Request[C]{Data: c, ClientID: ci.clientID, Identity: ci.identity,
		Actor: ci.actor, ActorID: ci.actorID, Method: ci.method}
}
