package zocket

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"time"
)

// turn is one mailbox item while it runs (a method call or a lifecycle
// hook; the actor-model word for it): its context, its instance, and what
// it buffered to happen after it commits (events, timers, calls to other
// actors).
type turn struct {
	base   context.Context // the item's context, without the call chain
	ctx    context.Context // base plus the call chain; built on first use
	inst   *instance
	events []pendingEvent
	timers []pendingTimer
	tells  []pendingTell
	alarms *[]alarmOp // durable alarms set or cancelled (alarms.go); nil: none
	closed bool

	// Set for connect and disconnect hooks only: their connection.
	hookConn Connection

	// Set for method calls only.
	mctx   any             // the middleware context (type C)
	conn   Connection      // the caller, for rpc:stream chunks; nil otherwise
	rpcID  json.RawMessage // the caller's rpc id
	chunks func(json.RawMessage)
	result json.RawMessage // the method's encoded result, once it returned

	// Durable instances (callmemory.go): a flush of the call wrote a
	// version; the commit that ended it stored its answer.
	flushed      bool
	answerStored bool

	// Streaming methods (MethodDef.Streaming).
	draft     reflect.Value
	streamGap time.Duration
	lastFlush time.Time
}

func newTurn(base context.Context, in *instance) turn {
	return turn{base: base, inst: in}
}

// context returns the item's context carrying the synchronous call chain
// (for cycle detection in actor-to-actor calls) and the App.
func (s *turn) context() context.Context {
	if s.ctx == nil {
		chain, _ := s.base.Value(chainKey{}).([]key)
		next := make([]key, len(chain), len(chain)+1)
		copy(next, chain)
		s.ctx = context.WithValue(s.base, chainKey{}, append(next, s.inst.key))
	}
	return s.ctx
}

func (s *turn) emit(ev pendingEvent) {
	if s.closed {
		s.inst.app.log.Warn("zocket: event emitted after its handler returned; dropped",
			"actor", s.inst.key.actor, "actorId", s.inst.key.id, "event", ev.name)
		return
	}
	s.events = append(s.events, ev)
}

func (s *turn) clients() []string { return s.inst.clients() }

// chainKey carries, in a handler's context, the instances whose mailboxes
// are waiting on the current synchronous call.
type chainKey struct{}

// onChain reports whether the mailbox of k is waiting on the call that
// ctx belongs to (ctx is a handler's context from k or from an instance
// that k is calling).
func onChain(ctx context.Context, k key) bool {
	chain, _ := ctx.Value(chainKey{}).([]key)
	return slices.Contains(chain, k)
}

func chainString(chain []key, last key) string {
	var b strings.Builder
	for _, k := range chain {
		b.WriteString(k.actor + "/" + k.id + " → ")
	}
	b.WriteString(last.actor + "/" + last.id)
	return b.String()
}

// addAlarmOp buffers a change to the instance's alarms until the commit.
func (s *turn) addAlarmOp(op alarmOp) {
	if s.alarms == nil {
		s.alarms = new([]alarmOp)
	}
	*s.alarms = append(*s.alarms, op)
}
