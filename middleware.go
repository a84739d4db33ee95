package zocket

import "context"

// Request is what a middleware step receives: the context built by the
// previous steps and who is calling what.
type Request[C any] struct {
	// Data is the previous step's result (NoData for the first step).
	Data C
	// ClientID is the caller's connection id ("" for App.Invoke).
	ClientID string
	// Identity is what the caller's transport authenticated.
	Identity Identity
	// Actor, ActorID and Method name the call.
	Actor, ActorID, Method string
}

// step is a type-erased middleware step.
type step func(ctx context.Context, prev any, call *callInfo) (any, error)

type callInfo struct {
	clientID               string
	identity               Identity
	actor, actorID, method string
	// trace is the rpc's W3C trace context, for the Observer.
	trace *traceContext // nil when the rpc carried none (most): keeps calls small
}

// Chain is an ordered, immutable list of middleware steps whose final result
// has type C. Several actors may share one chain (NewActorWith).
//
// Each step receives the previous step's result and returns the next; Go has
// no type intersection, so a step that adds to the context embeds the
// previous context struct in its own. A step that returns an error rejects
// the call with the error's text; later steps and the handler do not run.
// Middleware runs only for method calls, after method lookup and input
// validation, inside the instance's mailbox (a slow step delays the instance).
type Chain[C any] struct {
	steps []step
}

// Use starts a chain with its first step.
func Use[C any](fn func(ctx context.Context, r Request[NoData]) (C, error)) *Chain[C] {
	return Then(&Chain[NoData]{}, fn)
}

// Then returns a new chain: ch followed by fn. ch itself is unchanged.
func Then[In, Out any](ch *Chain[In], fn func(ctx context.Context, r Request[In]) (Out, error)) *Chain[Out] {
	s := func(ctx context.Context, prev any, ci *callInfo) (any, error) {
		var in In
		if prev != nil {
			in = prev.(In)
		}
		return fn(ctx, request(in, ci))
	}
	steps := make([]step, len(ch.steps), len(ch.steps)+1)
	copy(steps, ch.steps)
	return &Chain[Out]{steps: append(steps, s)}
}

// Check returns a new chain: ch followed by a step that can only reject,
// leaving the context unchanged. For a check that concerns one method,
// prefer that method's Guard.
func (ch *Chain[C]) Check(fn func(ctx context.Context, r Request[C]) error) *Chain[C] {
	return Then(ch, func(ctx context.Context, r Request[C]) (C, error) {
		return r.Data, fn(ctx, r)
	})
}

// run executes the chain and returns its final context.
func (ch *Chain[C]) run(ctx context.Context, ci *callInfo) (C, error) {
	var out C
	if ch == nil {
		return out, nil
	}
	var cur any
	for _, s := range ch.steps {
		next, err := s(ctx, cur, ci)
		if err != nil {
			return out, err
		}
		cur = next
	}
	if cur != nil {
		out = cur.(C)
	}
	return out, nil
}
