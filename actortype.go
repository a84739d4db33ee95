package zocket

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/zocket-go/zocket/internal/jsonvalue"
	"github.com/zocket-go/zocket/protocol"
)

// actorType is a registered actor definition with its types erased, as the
// instance manager drives it.
type actorType interface {
	stateType() *jsonvalue.Type
	newState() reflect.Value  // *S, as Initial builds it
	zeroState() reflect.Value // *S, zero
	durability() Durability
	idleTimeout(durable bool) time.Duration
	event(name string) (AnyEvent, bool)
	declares(name string, m any) bool
	call(in *instance, item *callItem)
	activate(in *instance)
	deactivate(in *instance)
	connect(in *instance, c Connection)
	disconnect(in *instance, c Connection)
	hasConnectHook() bool
	hasDisconnectHook() bool
	guardsSubs() bool                                          // subscribe.go
	authorizeSub(in *instance, c Connection, typ string) error // subscribe.go
	admit(in *instance, c Connection) (mctx any, ok bool)      // conndata.go
}

// callItem is one method call waiting in a mailbox. A call from a
// connection is answered on conn with id; one from App.Invoke on done.
type callItem struct {
	sc     turn
	method string
	input  json.RawMessage
	info   callInfo
	conn   Connection
	id     json.RawMessage
	done   chan invokeReply
	// internal calls (timers, fire-and-forget) skip middleware and use
	// preset as the middleware context; their errors are logged.
	internal bool
	preset   any
	timer    *instanceTimer
	alarm    uint64   // the durable alarm that woke this call (alarms.go)
	lent     bool     // running on a transport's read goroutine (Dispatch)
	answered bool     // reply was called (settle)
	sess     *session // the caller's session, for its in-flight count

	// Set only when the App has an Observer (observer.go).
	enqueued time.Time // when the call entered the mailbox; zero when run at once
	started  time.Time // when it left the mailbox
}

type invokeReply struct {
	result json.RawMessage
	err    error
}

// reply answers the call, or holds the answer for the output gate.
func (it *callItem) reply(result json.RawMessage, err error) {
	if in := it.sc.inst; in.holding {
		in.held = append(in.held, heldOutput{call: it, result: result, err: err})
		return
	}
	it.answer(&it.sc.inst.out, result, err)
}

// answer sends the call's answer through o.
func (it *callItem) answer(o *outbox, result json.RawMessage, err error) {
	it.settle()
	if it.internal {
		if err != nil {
			it.sc.inst.app.log.Error("zocket: internal call failed", "actor", it.info.actor, "actorId", it.info.actorID,
				"method", it.method, "err", err)
		}
		if it.done == nil {
			return
		}
	}
	if it.done != nil {
		it.done <- invokeReply{result, err}
		return
	}
	var frame []byte
	if err != nil {
		frame = protocol.AppendError(make([]byte, 0, 96+len(it.id)), it.id, it.sc.inst.app.errorText(err, &it.info))
	} else {
		frame = protocol.AppendResult(make([]byte, 0, 48+len(it.id)+len(result)), it.id, result)
	}
	if o.deliver(it.sc.inst.app, it.conn, frame) {
		o.owed = it.conn.(Flusher) // queued: flushed when the item ends
	}
	rpcDone(it.conn, it.id)
}

// safeMessage is the wire text of err ("Unknown error" for an empty one),
// safe for an error whose Error method panics (a
// nil pointer in an error interface): the caller still gets an answer.
func safeMessage(err error) (msg string) {
	defer func() {
		if recover() != nil {
			msg = "Unknown error"
		}
	}()
	if msg = err.Error(); msg == "" {
		msg = "Unknown error" // an empty message would read as success
	}
	return msg
}

// ErrStateNil is returned, wrapped in a CallError, when a handler or hook
// sets its State to nil. The caller receives the message "State set to nil".
var ErrStateNil = errors.New("zocket: State set to nil")

// adoptState makes the draft hold what the handler left in its State
// pointer: when it replaced the pointer (c.State = &S{...}), a deep copy of
// the new value becomes the draft, so the replacement commits like any
// change and shares no memory with values the handler keeps.
func adoptState[S any](draft reflect.Value, state *S) error {
	switch {
	case state == nil:
		return &CallError{Message: "State set to nil", Kind: ErrStateNil}
	case state != draft.Interface().(*S):
		jsonvalue.Clone(draft.Elem(), reflect.ValueOf(state).Elem())
	}
	return nil
}

// compiled is an Actor[S, C] checked and indexed at registration.
type compiled[S, C any] struct {
	def     *Actor[S, C]
	typ     *jsonvalue.Type
	methods map[string]AnyMethod[S, C]
	events  map[string]AnyEvent
}

func compile[S, C any](a *Actor[S, C]) (*compiled[S, C], error) {
	if a == nil {
		return nil, errors.New("definition is nil")
	}
	st := reflect.TypeFor[S]()
	if st.Kind() != reflect.Struct {
		return nil, fmt.Errorf("state type %s must be a struct", st)
	}
	typ, err := jsonvalue.TypeOf(st)
	if err != nil {
		return nil, fmt.Errorf("state type %s: %w", st, err)
	}
	if err := checkDefinition(a); err != nil {
		return nil, err
	}
	c := &compiled[S, C]{def: a, typ: typ, methods: map[string]AnyMethod[S, C]{}, events: map[string]AnyEvent{}}
	for _, m := range a.methods {
		c.methods[m.Name()] = m
	}
	for _, e := range a.events {
		c.events[e.Name()] = e
	}
	if err := c.checkCron(); err != nil {
		return nil, err
	}
	return c, nil
}

func (a *compiled[S, C]) stateType() *jsonvalue.Type { return a.typ }
func (a *compiled[S, C]) event(name string) (AnyEvent, bool) {
	e, ok := a.events[name]
	return e, ok
}
func (a *compiled[S, C]) declares(name string, m any) bool {
	own, ok := a.methods[name]
	return ok && any(own) == m
}
func (a *compiled[S, C]) hasConnectHook() bool    { return a.def.onConnect != nil }
func (a *compiled[S, C]) hasDisconnectHook() bool { return a.def.onDisconnect != nil }

func (a *compiled[S, C]) zeroState() reflect.Value { return reflect.ValueOf(new(S)) }
func (a *compiled[S, C]) durability() Durability   { return a.def.durability }

// idleTimeout is the type's IdleTimeout: DefaultIdleTimeout for durable
// types unless set, none for ephemeral ones unless set.
func (a *compiled[S, C]) idleTimeout(durable bool) time.Duration {
	switch {
	case a.def.idleSet:
		return a.def.idleTimeout
	case durable && a.def.durability != Ephemeral:
		return DefaultIdleTimeout
	}
	return 0
}

func (a *compiled[S, C]) newState() reflect.Value {
	p := new(S)
	if a.def.init != nil {
		*p = a.def.init()
	}
	return reflect.ValueOf(p)
}

// call runs a method call inside the mailbox and answers it exactly once,
// whatever happens: a panic anywhere in the pipeline (decoding, validation,
// middleware, guards, handler, commit) is answered as ErrPanic.
func (a *compiled[S, C]) call(in *instance, item *callItem) {
	if item.timer != nil {
		in.mu.Lock()
		item.timer.queued = false
		in.mu.Unlock()
	}
	if item.alarm != 0 && !in.alarmCall(item) {
		return // cancelled, or run already
	}
	if in.answerRepeated(item) {
		return // committed already: answered as then, not run again
	}
	o := in.app.obs
	if o != nil {
		item.observeStart(o)
	}
	var result json.RawMessage
	err := in.protect(func() (err error) {
		result, err = a.exec(in, item)
		return err
	})
	if o != nil {
		item.observeEnd(o, err) // before the answer: a caller that has it knows CallEnd ran
	}
	if item.alarm != 0 && err != nil {
		in.dropAlarm(item.alarm) // not retried: at least once means the call ran
	}
	if in.dur != nil {
		err = in.storeUnwrittenAnswer(item, result, err)
	}
	item.reply(result, err)
}

// exec is the call pipeline: lookup, input decoding and validation,
// middleware, the method's guards, then the handler as a transaction
// (commit, patch, events).
func (a *compiled[S, C]) exec(in *instance, item *callItem) (json.RawMessage, error) {
	sc := &item.sc
	if err := sc.base.Err(); err != nil {
		return nil, err
	}
	m, ok := a.methods[item.method]
	if !ok {
		return nil, &CallError{Message: "Unknown method: " + item.method, Kind: ErrUnknownMethod}
	}
	run, err := m.prepare(in.app.validate, item.input)
	if err != nil {
		return nil, err
	}
	var mctx C
	if item.internal {
		mctx, _ = item.preset.(C)
	} else if err := in.protect(func() (err error) {
		if mctx, err = a.def.chain.run(sc.base, &item.info); err != nil {
			return err
		}
		return m.runGuards(sc.base, request(mctx, &item.info))
	}); err != nil {
		return nil, err
	}
	sc.mctx = mctx
	sc.conn, sc.rpcID, sc.streamGap = item.conn, item.id, m.streaming()
	var result json.RawMessage
	err = in.transact(sc, func(draft reflect.Value) error {
		sc.draft = draft
		c := &Context[S, C]{State: draft.Interface().(*S), Data: mctx, ClientID: item.info.clientID,
			Identity: item.info.identity, Actor: in.key.actor, ActorID: in.key.id, Method: item.method, sc: sc}
		var err error
		if result, err = run(c); err != nil {
			return err
		}
		sc.result = result
		return adoptState(draft, c.State)
	})
	return result, err
}

func (a *compiled[S, C]) lifecycle(name string, in *instance, c Connection, fn func(*Lifecycle[S]) error) {
	if fn == nil {
		return
	}
	in.hook(name, c, func(sc *turn, draft reflect.Value, c Connection) error {
		lc := &Lifecycle[S]{State: draft.Interface().(*S), Actor: in.key.actor, ActorID: in.key.id, sc: sc}
		if c != nil {
			lc.ClientID, lc.Identity = c.ID(), c.Identity()
		}
		if err := fn(lc); err != nil {
			return err
		}
		return adoptState(draft, lc.State)
	})
}

func (a *compiled[S, C]) activate(in *instance) {
	a.lifecycle("onActivate", in, nil, a.def.onActivate)
	in.startCron(a.def.cron)
}

func (a *compiled[S, C]) deactivate(in *instance) {
	a.lifecycle("onDeactivate", in, nil, a.def.onDeactivate)
}

func (a *compiled[S, C]) connect(in *instance, c Connection) {
	a.lifecycle("onConnect", in, c, a.def.onConnect)
}

func (a *compiled[S, C]) disconnect(in *instance, c Connection) {
	a.lifecycle("onDisconnect", in, c, a.def.onDisconnect)
}
