package zocket

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/zocket-go/zocket/internal/jsonvalue"
	"github.com/zocket-go/zocket/protocol"
)

// actorType is a registered actor definition with its types erased, as the
// instance manager drives it.
type actorType interface {
	stateType() *jsonvalue.Type
	newState() reflect.Value // *S
	event(name string) (EventDecl, bool)
	call(in *instance, item *callItem)
	activate(in *instance)
	deactivate(in *instance)
	connect(in *instance, c Connection)
	disconnect(in *instance, c Connection)
	hasConnectHook() bool
	hasDisconnectHook() bool
	guardsSubs() bool                                          // subscribe.go
	authorizeSub(in *instance, c Connection, typ string) error // subscribe.go
	admit(in *instance, c Connection) (mctx any, ok bool)      // connctx.go
}

// callItem is one method call waiting in a mailbox. A call from a
// connection is answered on conn with id; one from App.Invoke on done.
type callItem struct {
	sc     scope
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
	lent     bool     // running on a transport's read goroutine (Dispatch)
	answered bool     // reply was called (settle)
	sess     *session // the caller's session, for its in-flight count
}

type invokeReply struct {
	result json.RawMessage
	err    error
}

// reply answers the call.
func (it *callItem) reply(result json.RawMessage, err error) {
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
	in := it.sc.inst
	if in.deliver(it.conn, frame) {
		in.owed = it.conn.(Flusher) // queued: flushed when the item ends
	}
}

// compiled is an Actor[S, C] checked and indexed at registration.
type compiled[S, C any] struct {
	def     *Actor[S, C]
	typ     *jsonvalue.Type
	methods map[string]MethodOf[S, C]
	events  map[string]EventDecl
}

func compile[S, C any](a *Actor[S, C]) (*compiled[S, C], error) {
	st := reflect.TypeFor[S]()
	if st.Kind() != reflect.Struct {
		return nil, fmt.Errorf("state type %s must be a struct", st)
	}
	typ, err := jsonvalue.TypeOf(st)
	if err != nil {
		return nil, fmt.Errorf("state type %s: %w", st, err)
	}
	c := &compiled[S, C]{def: a, typ: typ, methods: map[string]MethodOf[S, C]{}, events: map[string]EventDecl{}}
	for _, m := range a.methods {
		if _, dup := c.methods[m.Name()]; dup {
			return nil, fmt.Errorf("method %q declared twice", m.Name())
		}
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
func (a *compiled[S, C]) event(name string) (EventDecl, bool) {
	e, ok := a.events[name]
	return e, ok
}
func (a *compiled[S, C]) hasConnectHook() bool    { return a.def.onConnect != nil }
func (a *compiled[S, C]) hasDisconnectHook() bool { return a.def.onDisconnect != nil }

func (a *compiled[S, C]) newState() reflect.Value {
	p := new(S)
	if a.def.init != nil {
		*p = a.def.init()
	}
	return reflect.ValueOf(p)
}

// call runs PROTOCOL.md §6.1 steps 4–13 inside the mailbox: lookup,
// validation, middleware, handler, commit, patch, events, reply.
func (a *compiled[S, C]) call(in *instance, item *callItem) {
	sc := &item.sc
	if item.timer != nil {
		in.mu.Lock()
		item.timer.queued = false
		in.mu.Unlock()
	}
	if err := sc.base.Err(); err != nil {
		item.reply(nil, err)
		return
	}
	m, ok := a.methods[item.method]
	if !ok {
		item.reply(nil, &CallError{Message: "Unknown method: " + item.method, Kind: ErrUnknownMethod})
		return
	}
	run, err := m.prepare(in.app.validate, item.input)
	if err != nil {
		item.reply(nil, err)
		return
	}
	var mctx C
	if item.internal {
		mctx, _ = item.preset.(C)
	} else if err := in.protect(func() (err error) {
		mctx, err = a.def.chain.run(sc.base, &item.info)
		return err
	}); err != nil {
		item.reply(nil, err)
		return
	}
	sc.mctx = mctx
	sc.conn, sc.rpcID, sc.streamGap = item.conn, item.id, m.streaming()
	var result json.RawMessage
	err = in.transact(sc, func(draft reflect.Value) error {
		sc.draft = draft
		c := &Context[S, C]{State: draft.Interface().(*S), Ctx: mctx, ClientID: item.info.clientID,
			Identity: item.info.identity, Actor: in.key.actor, ActorID: in.key.id, Method: item.method, sc: sc}
		var err error
		result, err = run(c)
		return err
	})
	item.reply(result, err)
}

func (a *compiled[S, C]) lifecycle(name string, in *instance, c Connection, fn func(*Lifecycle[S]) error) {
	if fn == nil {
		return
	}
	in.hook(name, c, func(sc *scope, draft reflect.Value, c Connection) error {
		lc := &Lifecycle[S]{State: draft.Interface().(*S), Actor: in.key.actor, ActorID: in.key.id, sc: sc}
		if c != nil {
			lc.ClientID, lc.Identity = c.ID(), c.Identity()
		}
		return fn(lc)
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
