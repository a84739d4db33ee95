package zocket

import (
	"context"
	"slices"

	"github.com/zocket-go/zocket/protocol"
)

// OnSubscribe sets a hook that authorizes subscriptions (state:sub and
// event:sub) to the actor's instances. For each subscription the
// middleware chain runs first, as for a method call, with r.Method set to
// the message type ("state:sub" or "event:sub"); then fn gets the chain's
// result in r.Data. An error from either refuses the subscription: it is
// logged, and the client receives nothing (the protocol has no answer to a
// subscription). Both run inside the instance's mailbox, after the work
// already queued; a subscription the connection cancels or closes
// meanwhile is dropped.
//
// Without OnSubscribe every subscription is allowed, as in the TypeScript
// server, and middleware does not run for subscriptions.
func (a *Actor[S, C]) OnSubscribe(fn func(ctx context.Context, r Request[C]) error) *Actor[S, C] {
	a.onSubscribe = fn
	return a
}

func (a *compiled[S, C]) guardsSubs() bool { return a.def.onSubscribe != nil }

// authorizeSub runs the middleware chain and the OnSubscribe hook for a
// subscription of c of type typ; a panic refuses it.
func (a *compiled[S, C]) authorizeSub(in *instance, c Connection, typ string) error {
	ci := callInfo{clientID: c.ID(), identity: c.Identity(), actor: in.key.actor, actorID: in.key.id, method: typ}
	ctx := in.app.ctx
	return in.protect(func() error {
		mctx, err := a.def.chain.run(ctx, &ci)
		if err != nil {
			return err
		}
		return a.def.onSubscribe(ctx, Request[C]{Data: mctx, ClientID: ci.clientID, Identity: ci.identity,
			Actor: ci.actor, ActorID: ci.actorID, Method: typ})
	})
}

// waitKey is a subscription queued in the mailbox: its connection and kind.
type waitKey struct {
	id    string
	state bool
}

// subscribeLocked subscribes c to the instance's state or events. A state
// subscription is answered with a snapshot of the committed state,
// atomically with respect to commits (both happen under in.mu). When the
// actor authorizes subscriptions (OnSubscribe), or before activation
// finished for a state subscription, the subscription is queued in the
// mailbox instead, and dropped if the connection unsubscribes or closes
// meanwhile (unsubscribeLocked). The caller holds in.mu.
//
// A durable instance whose outputs are gated always queues a state
// subscription: its snapshot then leaves through the output gate, so a
// subscriber never sees state that is not yet durable.
//
// A state subscription that names the version the client has (resume)
// is answered with the patches after it when the instance's history
// holds them, with nothing when the client is current, else with a
// snapshot.
func (in *instance) subscribeLocked(c Connection, state bool, resume *resumePoint) {
	if in.kind.guardsSubs() || (state && (!in.activated || in.gated())) {
		in.queueSubLocked(c, state, resume)
		return
	}
	in.addSubLocked(c, state, false, resume)
}

// resumePoint is the state a resubscribing client has.
type resumePoint struct {
	version uint64
	epoch   string
}

// waitSub is a subscription waiting in the mailbox; conn is nil once it
// was cancelled.
type waitSub struct {
	conn   Connection
	resume *resumePoint
}

// addSubLocked makes the subscription; the caller holds in.mu. From the
// mailbox (inMailbox), the snapshot goes through the item's outbox.
func (in *instance) addSubLocked(c Connection, state, inMailbox bool, resume *resumePoint) {
	if in.loadErrorLocked() != nil {
		return // the instance is given up; a new one serves the next message
	}
	if !state {
		in.eventSubs = in.addSub(in.eventSubs, c, SubscriptionEvents)
		return
	}
	in.stateSubs = in.addSub(in.stateSubs, c, SubscriptionState)
	if !in.tracking && in.dur == nil {
		in.tracking = true
		in.forgetHistoryLocked(in.version) // the history starts here
	}
	in.setVersionedLocked(c.ID(), resume != nil)
	// What it gets now brings it up to date: a resync pending from a slow
	// spell would send it again.
	in.forgetStaleLocked(c.ID())
	send := func(frame []byte, v uint64, snap bool) {
		if inMailbox {
			in.stateFrame(c, frame, v, snap)
		} else {
			in.send(c, frame)
		}
	}
	if resume != nil {
		if frames, ok := in.resumeFramesLocked(resume.version, resume.epoch); ok {
			for i, f := range frames {
				send(f, resume.version+1+uint64(i), false)
			}
			return
		}
	}
	frame, err := in.snapshotLocked()
	if err != nil {
		in.app.log.Error("zocket: cannot encode state", "actor", in.key.actor, "actorId", in.key.id, "err", err)
		return
	}
	if resume != nil {
		frame = in.versioned(frame, in.version)
	}
	send(frame, in.version, true)
}

// queueSubLocked queues the subscription behind the mailbox's work, where
// it is authorized and then made. One is queued per connection and kind at
// most: subscribing again while one waits (even after unsubscribing)
// revives the waiting one instead of queueing more work. The caller holds
// in.mu.
func (in *instance) queueSubLocked(c Connection, state bool, resume *resumePoint) {
	wk := waitKey{c.ID(), state}
	if _, queued := in.waitSubs[wk]; queued {
		in.waitSubs[wk] = waitSub{c, resume} // revived if it was cancelled
		return
	}
	if in.waitSubs == nil {
		in.waitSubs = map[waitKey]waitSub{}
	}
	in.waitSubs[wk] = waitSub{c, resume}
	in.pushFunc(func() {
		if in.kind.guardsSubs() {
			typ := protocol.TypeEventSub
			if state {
				typ = protocol.TypeStateSub
			}
			if err := in.kind.authorizeSub(in, c, string(typ)); err != nil {
				in.mu.Lock()
				delete(in.waitSubs, wk)
				in.mu.Unlock()
				in.app.log.Info("zocket: subscription refused", "clientId", c.ID(), "actor", in.key.actor,
					"actorId", in.key.id, "type", typ, "err", err)
				return
			}
		}
		in.mu.Lock()
		defer in.mu.Unlock()
		want := in.waitSubs[wk]
		delete(in.waitSubs, wk)
		if want.conn == nil {
			return // unsubscribed or closed meanwhile
		}
		in.addSubLocked(want.conn, state, true, want.resume)
	})
}

// unsubscribeLocked removes a subscription of the connection id, including
// one still queued in the mailbox. The caller holds in.mu.
func (in *instance) unsubscribeLocked(id string, state bool) {
	if wk := (waitKey{id, state}); in.waitSubs[wk].conn != nil {
		in.waitSubs[wk] = waitSub{} // cancelled: the queued work finds no connection and drops it
	}
	if state {
		in.forgetStaleLocked(id)
		in.setVersionedLocked(id, false)
		in.stateSubs = in.removeSub(in.stateSubs, id, SubscriptionState)
	} else {
		in.eventSubs = in.removeSub(in.eventSubs, id, SubscriptionEvents)
	}
}

// addSub returns subs with c added, unless it is there already; the
// Observer hears of an added subscription.
func (in *instance) addSub(subs []Connection, c Connection, kind SubscriptionKind) []Connection {
	if slices.ContainsFunc(subs, func(s Connection) bool { return s.ID() == c.ID() }) {
		return subs
	}
	if o := in.app.obs; o != nil {
		o.Subscribed(in.key.actor, in.key.id, kind)
	}
	out := make([]Connection, len(subs), len(subs)+1)
	copy(out, subs)
	return append(out, c)
}

// removeSub returns subs without the connection id; the Observer hears of
// a removed subscription.
func (in *instance) removeSub(subs []Connection, id string, kind SubscriptionKind) []Connection {
	i := slices.IndexFunc(subs, func(s Connection) bool { return s.ID() == id })
	if i < 0 {
		return subs
	}
	if o := in.app.obs; o != nil {
		o.Unsubscribed(in.key.actor, in.key.id, kind)
	}
	out := make([]Connection, 0, len(subs)-1)
	out = append(out, subs[:i]...)
	return append(out, subs[i+1:]...)
}
