package zocket

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-playground/validator/v10"
)

// App is a registry of actor types and the manager of their live instances.
// Register every actor type before serving; all other methods are safe for
// concurrent use.
type App struct {
	log       *slog.Logger
	validate  *validator.Validate
	ctx       context.Context // method calls' context: cancelled when Close begins
	cancel    context.CancelFunc
	hookCtx   context.Context // lifecycle hooks' context: cancelled when Close ends
	hookEnd   context.CancelFunc
	wg        sync.WaitGroup // mailbox goroutines
	created   func(actor, id string)
	destroyed func(actor, id string)
	obs       Observer // nil: nothing observed (observer.go)

	grace        time.Duration
	slowCall     time.Duration
	maxInFlight  int
	maxSubs      int
	publicOnly   bool
	maxInstances int
	historyBytes int // history.go

	placement   atomic.Pointer[Placement] // nil: every instance is local (placement.go)
	storage     Storage                   // nil: every actor type is ephemeral (durable.go)
	writeBehind time.Duration
	callMemory  int        // recent calls a durable instance remembers (callmemory.go)
	committer   *committer // writes durable instances' changes; nil without storage
	alarms      alarmClock
	resyncer    resyncer       // resync.go
	bg          sync.WaitGroup // the idle clock and the alarms' first load
	idleTick    time.Duration  // the idle clock's period (passivate.go)
	ticks       atomic.Uint64  // the idle clock: ticks so far
	uses        atomic.Uint64  // instances' uses so far, counted WithMaxInstances only

	regMu  sync.Mutex                           // serialises Register
	actors atomic.Pointer[map[string]actorType] // copy-on-write registry

	mu        sync.Mutex // guards creation, removal and closed
	live      sync.Map   // key → *instance, read without mu
	count     int
	closed    bool
	departing map[key]chan struct{} // durable instances still writing their last changes
	reaping   bool                  // the idle clock runs
}

// NewApp returns an empty App.
func NewApp(opts ...Option) *App {
	a := &App{
		log:         slog.New(slog.DiscardHandler),
		validate:    newValidator(),
		grace:       DefaultShutdownGrace,
		slowCall:    DefaultSlowCallWarning,
		maxInFlight: DefaultMaxInFlight,
		maxSubs:     DefaultMaxSubscriptions,
		writeBehind: DefaultWriteBehind,
		callMemory:  DefaultCallMemory,
		departing:   map[key]chan struct{}{},
	}
	a.actors.Store(&map[string]actorType{})
	a.ctx, a.cancel = context.WithCancel(context.Background())
	a.hookCtx, a.hookEnd = context.WithCancel(context.Background())
	a.alarms.app = a
	a.resyncer.app = a
	for _, o := range opts {
		o(a)
	}
	if a.historyBytes == 0 {
		a.historyBytes = DefaultResumeHistory
	}
	if a.storage != nil {
		a.committer = newCommitter(a)
		a.bg.Add(1)
		go a.loadAlarms()
	}
	return a
}

// Registrable is an actor definition that can be registered: an *Actor[S, C].
type Registrable interface {
	compile() (actorType, error)
}

func (a *Actor[S, C]) compile() (actorType, error) { return compile(a) }

// Register adds an actor type under name and returns the App for chaining.
// Like http.ServeMux.Handle it panics on a programming error: an empty or
// duplicate name, or a state type that cannot be carried as JSON (the panic
// says which field). Use TryRegister to get the error instead.
func (a *App) Register(name string, def Registrable) *App {
	if err := a.TryRegister(name, def); err != nil {
		panic(err)
	}
	return a
}

// TryRegister is Register returning an error instead of panicking.
func (a *App) TryRegister(name string, def Registrable) error {
	if name == "" {
		return fmt.Errorf("zocket: actor name must not be empty")
	}
	if def == nil {
		return fmt.Errorf("zocket: actor %q: definition is nil", name)
	}
	at, err := def.compile()
	if err != nil {
		return fmt.Errorf("zocket: actor %q: %w", name, err)
	}
	a.regMu.Lock()
	defer a.regMu.Unlock()
	old := *a.actors.Load()
	if _, dup := old[name]; dup {
		return fmt.Errorf("zocket: actor %q registered twice", name)
	}
	next := maps.Clone(old)
	next[name] = at
	a.actors.Store(&next)
	return nil
}

// ActorNames returns the registered actor type names, sorted.
func (a *App) ActorNames() []string {
	return slices.Sorted(maps.Keys(*a.actors.Load()))
}

func (a *App) actor(name string) (actorType, bool) {
	at, ok := (*a.actors.Load())[name]
	return at, ok
}

// isClosed reports whether Close was called.
func (a *App) isClosed() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.closed
}

// lookup returns the live instance for k, or nil.
func (a *App) lookup(k key) *instance {
	if v, ok := a.live.Load(k); ok {
		return v.(*instance)
	}
	return nil
}

// instance returns the live instance for k, creating it (and queueing its
// activation ahead of anything else) if needed. It fails with ErrClosed
// once the App is closed, and with ErrTooManyInstances when the App is
// full (WithMaxInstances) and no instance is idle.
func (a *App) instance(k key, at actorType) (*instance, error) {
	if in := a.lookup(k); in != nil {
		return in, nil
	}
	if !a.local(k) {
		return nil, elsewhere(k)
	}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil, ErrClosed
	}
	if in := a.lookup(k); in != nil {
		a.mu.Unlock()
		return in, nil
	}
	victims, ok := a.evictLocked()
	if !ok {
		a.mu.Unlock()
		return nil, &CallError{Message: "Too many active actors", Kind: ErrTooManyInstances}
	}
	in := &instance{app: a, key: k, kind: at, known: map[string]Connection{}, epoch: newEpoch()}
	in.state = at.newState()
	if d := at.durability(); a.storage != nil && d != Ephemeral {
		in.dur = &durable{mode: d}
	}
	prev := a.departing[k]
	a.live.Store(k, in)
	a.count++
	if a.idleTicks(at) > 0 && !a.reaping {
		a.reaping = true
		a.startIdleClock()
	}
	in.mu.Lock()
	in.pushFunc(func() { in.activate(prev) })
	in.mu.Unlock()
	a.mu.Unlock()
	a.finishEviction(victims)
	return in, nil
}

// activate loads a durable instance's state, once the instance it
// replaces (prev) finished writing, then runs onActivate. An instance
// whose state cannot be loaded leaves the App: the calls already queued
// for it fail, and the next message loads it again.
func (in *instance) activate(prev <-chan struct{}) {
	a := in.app
	if prev != nil {
		<-prev
	}
	if in.dur != nil {
		if err := in.load(a.hookCtx, time.Time{}); err != nil {
			a.log.Error("zocket: cannot activate: stored state not loaded", "actor", in.key.actor,
				"actorId", in.key.id, "err", err)
			in.mu.Lock()
			in.dur.loadErr = err
			in.activated = true
			in.mu.Unlock()
			a.drop(in)
			return
		}
	}
	in.kind.activate(in)
	in.mu.Lock()
	in.activated = true
	in.mu.Unlock()
	if a.obs != nil {
		a.obs.Activated(in.key.actor, in.key.id)
	}
	if a.created != nil {
		a.created(in.key.actor, in.key.id)
	}
}

// drop takes an instance that cannot go on out of the App, without
// deactivating it; messages already queued still reach it. The sessions
// of its callers forget it, so that they do not keep it in memory.
func (a *App) drop(in *instance) {
	a.mu.Lock()
	if a.lookup(in.key) == in {
		a.live.Delete(in.key)
		a.count--
	}
	a.mu.Unlock()
	in.mu.Lock()
	in.closing = true
	in.mu.Unlock()
	in.forgetSessions()
}

// withInstance runs fn on the live instance for k (created if needed) with
// in.mu held, retrying when it raced with Destroy. It fails as instance
// does.
func (a *App) withInstance(k key, at actorType, fn func(in *instance)) error {
	for {
		in, err := a.instance(k, at)
		if err != nil {
			return err
		}
		in.mu.Lock()
		if in.closing {
			in.mu.Unlock()
			continue
		}
		fn(in)
		in.mu.Unlock()
		return nil
	}
}

// InstanceInfo names a live instance.
type InstanceInfo struct {
	Actor string
	ID    string
}

// Size returns the number of live instances.
func (a *App) Size() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.count
}

// List returns the live instances, sorted by actor then id.
func (a *App) List() []InstanceInfo {
	var out []InstanceInfo
	a.live.Range(func(k, _ any) bool {
		out = append(out, InstanceInfo{Actor: k.(key).actor, ID: k.(key).id})
		return true
	})
	slices.SortFunc(out, func(x, y InstanceInfo) int { return compareNames(x.Actor, x.ID, y.Actor, y.ID) })
	return out
}

type identityKey struct{}

// WithIdentity returns a context that makes App.Invoke call as identity:
// middleware and handlers see it as the caller's Identity.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// Invoke calls a method from server code (an HTTP handler, a queue
// consumer) without a connection, through the instance's mailbox like any
// call: validation, middleware (with ClientID "" and the identity from
// WithIdentity), handler, commit, patches and events. input is the method's
// JSON input (nil for none); the result is its JSON result (nil when the
// method returns nothing). Errors are the caller's error as a client would
// receive it: a *CallError, a *ValidationError, or the handler's error.
// If ctx ends before the call starts, the call is skipped; if it ends while
// the call runs, Invoke returns ctx.Err() and the call still completes.
func (a *App) Invoke(ctx context.Context, actor, actorID, method string, input json.RawMessage) (json.RawMessage, error) {
	at, ok := a.actor(actor)
	if !ok {
		return nil, &CallError{Message: "Unknown actor: " + actor, Kind: ErrUnknownActor}
	}
	if err := checkCycle(ctx, key{actor, actorID}); err != nil {
		return nil, err
	}
	id, _ := ctx.Value(identityKey{}).(Identity)
	item := &callItem{method: method, input: input, done: make(chan invokeReply, 1),
		info: callInfo{identity: id, actor: actor, actorID: actorID, method: method}}
	if err := a.withInstance(key{actor, actorID}, at, func(in *instance) {
		item.sc = newTurn(ctx, in)
		item.sc.chunks, _ = ctx.Value(chunksKey{}).(func(json.RawMessage))
		in.pushLocked(work{call: item})
	}); err != nil {
		return nil, err
	}
	select {
	case r := <-item.done:
		return r.result, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Destroy deactivates instance (actor, id): onDeactivate runs after
// everything already queued, its changes are not broadcast, subscribers are
// not told, and the next message for the pair creates a fresh instance.
// A durable instance's stored state stays (Destroy then waits until it is
// written): the fresh instance loads it.
// It waits for onDeactivate or ctx; ErrNotFound if the instance is not live.
//
// Called from a method or hook of the instance itself (with its
// Context()), or of an instance it is synchronously calling, Destroy cannot
// wait, since onDeactivate runs after the current call: it then returns nil
// at once, the current call completes and commits as usual (its timers do
// not start), and onDeactivate runs next.
func (a *App) Destroy(ctx context.Context, actor, id string) error {
	a.mu.Lock()
	in := a.lookup(key{actor, id})
	if in != nil {
		a.removeLocked(in)
	}
	a.mu.Unlock()
	if in == nil {
		return fmt.Errorf("%w: %s/%s", ErrNotFound, actor, id)
	}
	return in.destroy(ctx)
}

// DestroyAll destroys every live instance, concurrently, and waits for their
// onDeactivate hooks or ctx.
func (a *App) DestroyAll(ctx context.Context) error {
	a.mu.Lock()
	var all []*instance
	a.live.Range(func(k, v any) bool {
		in := v.(*instance)
		all = append(all, in)
		a.removeLocked(in)
		return true
	})
	a.mu.Unlock()
	errs := make(chan error, len(all))
	for _, in := range all {
		go func() { errs <- in.destroy(ctx) }()
	}
	var first error
	for range all {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Close stops the App gracefully:
//
//   - new connections are refused (Handler.OnConnection closes them),
//     new calls are answered with an error, and messages are ignored;
//   - the context of every method call, running or queued, is cancelled
//     at once: running methods should return soon, and queued calls are
//     answered with the context's error without running;
//   - every instance is destroyed: its onDeactivate runs after its
//     queued work, with a context that stays valid until Close returns;
//   - Close waits for the mailboxes to finish, for at most the grace
//     period (WithShutdownGrace, default 10 s) and at most until ctx ends,
//     then returns the context's error. A method that ignores its context
//     and never returns keeps its goroutine, but not Close.
//
// Calls made with App.Invoke run with the caller's context, which Close
// does not cancel. Called from a method, Close cannot see that call end and
// returns after the grace period.
func (a *App) Close(ctx context.Context) error {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	a.cancel()
	defer a.hookEnd()
	if a.grace > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.grace)
		defer cancel()
	}
	err := a.DestroyAll(ctx)
	done := make(chan struct{})
	go func() {
		a.wg.Wait()
		if a.committer != nil {
			a.committer.close() // after the last commits: writes what is pending
		}
		a.alarms.close()
		a.resyncer.wait()
		a.bg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		if err == nil {
			err = ctx.Err()
		}
	}
	return err
}

// destroy queues onDeactivate behind the queued work and waits for it,
// unless ctx is a call chain through in, whose mailbox is busy with it.
func (in *instance) destroy(ctx context.Context) error {
	done := in.deactivate()
	if onChain(ctx, in.key) {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// deactivate queues onDeactivate behind the queued work; the channel
// closes when it ran and, for a durable instance, its last changes were
// written. The sessions of its callers forget it from its mailbox, where
// no session's lock is held (an eviction may run under one).
func (in *instance) deactivate() <-chan struct{} {
	done := make(chan struct{})
	in.mu.Lock()
	in.closing = true
	in.stopTimersLocked()
	in.pushFunc(func() {
		in.forgetSessions()
		in.mu.Lock()
		in.observeUnsubscribed(in.stateSubs, SubscriptionState)
		in.observeUnsubscribed(in.eventSubs, SubscriptionEvents)
		in.stateSubs, in.eventSubs = nil, nil
		loaded := in.dur == nil || in.dur.loadErr == nil
		in.mu.Unlock()
		if loaded {
			in.kind.deactivate(in)
		}
		in.stopWatch()
		if in.dur != nil {
			in.mu.Lock()
			flushed := in.flushedLocked()
			in.mu.Unlock()
			<-flushed
			in.dur.departed = true
			in.app.departed(in)
		}
		if in.app.destroyed != nil {
			in.app.destroyed(in.key.actor, in.key.id)
		}
		if o := in.app.obs; o != nil {
			o.Deactivated(in.key.actor, in.key.id)
		}
		close(done)
	})
	in.mu.Unlock()
	return done
}

// departed lets a new activation of in's key load what in wrote.
func (a *App) departed(in *instance) {
	if in.gone == nil {
		return
	}
	a.mu.Lock()
	if a.departing[in.key] == in.gone {
		delete(a.departing, in.key)
	}
	a.mu.Unlock()
	close(in.gone)
}
