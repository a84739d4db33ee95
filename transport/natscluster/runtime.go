package natscluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/jsonscan"
	"github.com/zocket-go/zocket/protocol"
)

// RuntimeOptions configures a Runtime.
type RuntimeOptions struct {
	// Namespace is the deployment's (workspace, project) (required).
	Namespace Namespace
	// DeploymentID is reported by the health handler.
	DeploymentID string
	// AckWait is the inbound consumers' ack_wait (default 30 s). Calls
	// that run longer are kept alive with in-progress acks.
	AckWait time.Duration
	// DedupeWindow is how long an executed rpc is remembered, by session
	// and rpc id, so that a redelivered copy is not executed again
	// (default 2 min, twice INBOUND's max age).
	DedupeWindow time.Duration
	// AliveTimeout is how long a session that a Go gateway listed as
	// open may go unlisted before it counts as disconnected (default 90
	// s, three gateway intervals; see SessionsAliveNotice).
	AliveTimeout time.Duration
	// Partitions, when above zero, lets several runtimes serve the scope
	// (docs/distributed.md, "Many runtimes"): INBOUND is split into this
	// many partitions (StreamOptions.Partitions), each pulled through a
	// pinned_client consumer that delivers to one runtime at a time, and
	// the runtimes share the partitions out among themselves. Zero (the
	// default) keeps one consumer per actor type, which one runtime per
	// scope may pull, as in TypeScript. Every runtime of a scope must use
	// the same count; a durable actor type needs a Storage that all
	// runtimes share (storage/natsstore).
	Partitions int
	// RuntimeID names this runtime among the scope's runtimes (default:
	// random). It must be a subject token and unique among live runtimes.
	RuntimeID string
	// PinnedTTL is how long a partition stays pinned to a runtime that
	// stopped pulling, before another takes it over (default 10 s,
	// minimum 1 s). A holder renews its pin with a pull request every
	// third of it.
	PinnedTTL time.Duration
	// MemberTTL is how long a runtime that stopped refreshing its
	// membership entry still counts as a member (default 6 s).
	MemberTTL time.Duration
	// Streams chooses how the streams are created where missing
	// (Partitions is copied into it).
	Streams StreamOptions
	// Observer hears each outbound publish and its acknowledgement
	// (default: none).
	Observer Observer
	// Logger receives the runtime's logs (default: discard).
	Logger *slog.Logger
}

// Runtime hosts an App behind JetStream (docs/distributed.md): one durable pull
// consumer per actor type on INBOUND, one virtual connection per gateway
// session, and outbound messages published to the session's subject.
//
// Messages are handed to the App in delivery order, which keeps each
// instance's order, and run in the instances' own mailboxes, so different
// instances of one actor type run in parallel. An rpc is acked once
// its rpc:result is published, which the Handler reports to the session's
// connection (zocket.RPCObserver); other messages once the App took them.
type Runtime struct {
	nc   *nats.Conn
	js   jetstream.JetStream
	app  *zocket.App
	h    *zocket.Handler
	opts RuntimeOptions

	mu       sync.Mutex
	sessions map[string]*vconn
	tombs    map[string]time.Time // sessions that disconnected, for late frames
	seen     map[string]time.Time // executed rpcs: session + "\x00" + id, against redelivery
	loops    []jetstream.ConsumeContext
	sub      *nats.Subscription // disconnect notices
	alive    *nats.Subscription // alive notices
	started  bool
	stopping bool
	failures map[string]string // actor type → why its consume loop is down
	parts    *partitions       // nil unless opts.Partitions > 0

	batchers         batchers // one per Go gateway: batch.go
	outboundFailures atomic.Int64
	clock            *pubClock // nil without an Observer
	stop             chan struct{}
	done             sync.WaitGroup
}

// NewRuntime returns a Runtime for app, publishing and consuming through
// nc.
func NewRuntime(nc *nats.Conn, app *zocket.App, opts RuntimeOptions) (*Runtime, error) {
	if err := opts.Namespace.Validate(); err != nil {
		return nil, fmt.Errorf("natscluster: runtime namespace: %w", err)
	}
	for _, name := range app.ActorNames() {
		if err := ValidToken("actor type", name); err != nil {
			return nil, fmt.Errorf("natscluster: %w", err)
		}
	}
	if opts.AckWait <= 0 {
		opts.AckWait = 30 * time.Second
	}
	if opts.DedupeWindow <= 0 {
		opts.DedupeWindow = 2 * time.Minute
	}
	if opts.AliveTimeout <= 0 {
		opts.AliveTimeout = 90 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Partitions < 0 {
		return nil, fmt.Errorf("natscluster: runtime partitions %d: %w", opts.Partitions, ErrInvalidOption)
	}
	if opts.PinnedTTL == 0 {
		opts.PinnedTTL = 10 * time.Second
	}
	if opts.Partitions > 0 && opts.PinnedTTL < time.Second {
		return nil, fmt.Errorf("natscluster: runtime pinned TTL %v is below 1s: %w", opts.PinnedTTL, ErrInvalidOption)
	}
	if opts.MemberTTL <= 0 {
		opts.MemberTTL = 6 * time.Second
	}
	if opts.RuntimeID == "" {
		opts.RuntimeID = newSessionID()
	}
	if err := ValidToken("runtime id", opts.RuntimeID); err != nil {
		return nil, fmt.Errorf("natscluster: %w", err)
	}
	opts.Streams.Partitions = opts.Partitions
	r := &Runtime{nc: nc, app: app, h: zocket.NewHandler(app), opts: opts,
		sessions: map[string]*vconn{}, tombs: map[string]time.Time{}, seen: map[string]time.Time{},
		failures: map[string]string{}, stop: make(chan struct{})}
	jsOpts := []jetstream.JetStreamOpt{jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, m *nats.Msg, err error) {
		r.outboundFailed(m.Subject, err)
		r.clock.done(m, err)
	})}
	if opts.Observer != nil {
		r.clock = &pubClock{o: opts.Observer}
		jsOpts = append(jsOpts, r.clock.ackHandler())
	}
	js, err := jetstream.New(nc, jsOpts...)
	if err != nil {
		return nil, err
	}
	r.js = js
	return r, nil
}

// Start ensures the streams and one consumer per actor type (per partition
// with RuntimeOptions.Partitions), and starts consuming and listening for
// disconnect notices.
func (r *Runtime) Start(ctx context.Context) error {
	drifts, err := EnsureStreamsWith(ctx, r.js, r.opts.Streams)
	for _, d := range drifts {
		r.opts.Logger.Warn("natscluster: stream configuration drift", "drift", d.String())
	}
	if err != nil {
		return err
	}
	sub, err := r.nc.Subscribe(DisconnectedSubject(r.opts.Namespace), r.onDisconnected)
	if err != nil {
		return fmt.Errorf("natscluster: subscribe to disconnect notices: %w", err)
	}
	alive, err := r.nc.Subscribe(AliveSubject(r.opts.Namespace), r.onAlive)
	if err != nil {
		sub.Unsubscribe()
		return fmt.Errorf("natscluster: subscribe to alive notices: %w", err)
	}
	r.mu.Lock()
	r.sub, r.alive, r.started = sub, alive, true
	r.mu.Unlock()
	if r.opts.Partitions > 0 {
		parts := newPartitions(r)
		if err := parts.start(ctx); err != nil {
			r.Stop(ctx)
			return err
		}
		r.mu.Lock() // /health and HeldPartitions read it meanwhile
		r.parts = parts
		r.mu.Unlock()
		r.done.Go(r.maintain)
		return nil
	}
	for i, actor := range r.app.ActorNames() {
		cc, err := r.consume(ctx, actor)
		if err != nil {
			r.Stop(ctx)
			return err
		}
		r.mu.Lock()
		r.loops = append(r.loops, cc)
		r.mu.Unlock()
		r.done.Go(func() { r.supervise(i, actor, cc) })
	}
	r.done.Go(r.maintain)
	return nil
}

// consume creates or updates actor's durable consumer and
// starts consuming it.
func (r *Runtime) consume(ctx context.Context, actor string) (jetstream.ConsumeContext, error) {
	cons, err := r.js.CreateOrUpdateConsumer(ctx, InboundStream, jetstream.ConsumerConfig{
		Durable:       ConsumerName(r.opts.Namespace, actor),
		FilterSubject: InboundFilter(r.opts.Namespace, actor),
		AckPolicy:     jetstream.AckExplicitPolicy,
		MaxAckPending: 256,
		AckWait:       r.opts.AckWait,
	})
	if err != nil {
		return nil, fmt.Errorf("natscluster: consumer for %s: %w", actor, err)
	}
	cc, err := cons.Consume(r.handle, jetstream.ConsumeErrHandler(func(cc jetstream.ConsumeContext, err error) {
		r.opts.Logger.Debug("natscluster: runtime consume", "actor", actor, "err", err)
		if consumerGone(err) {
			go cc.Stop() // supervise re-creates it
		}
	}))
	if err != nil {
		return nil, fmt.Errorf("natscluster: consume %s: %w", actor, err)
	}
	return cc, nil
}

// supervise restarts a consume loop that ended by itself (its consumer or
// stream vanished, as after a NATS restart: the streams live in memory),
// re-creating the streams and the consumer, with backoff. Meanwhile the
// runtime reports itself unhealthy.
func (r *Runtime) supervise(i int, actor string, cc jetstream.ConsumeContext) {
	backoff := 50 * time.Millisecond
	for {
		select {
		case <-cc.Closed():
		case <-r.stop:
			return
		}
		r.setFailure(actor, "consume loop for "+actor+" stopped")
		r.opts.Logger.Error("natscluster: runtime consume loop stopped; restarting it", "actor", actor)
		for {
			select {
			case <-r.stop:
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 2*time.Second)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err := EnsureStreamsWith(ctx, r.js, r.opts.Streams)
			var next jetstream.ConsumeContext
			if err == nil {
				next, err = r.consume(ctx, actor)
			}
			cancel()
			if err != nil {
				r.opts.Logger.Warn("natscluster: runtime cannot restart a consume loop yet", "actor", actor, "err", err)
				continue
			}
			r.mu.Lock()
			if r.stopping {
				r.mu.Unlock()
				next.Stop()
				return
			}
			r.loops[i] = next
			r.mu.Unlock()
			cc, backoff = next, 50*time.Millisecond
			r.setFailure(actor, "")
			r.opts.Logger.Info("natscluster: runtime consume loop restarted", "actor", actor)
			break
		}
	}
}

func (r *Runtime) setFailure(actor, why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if why == "" {
		delete(r.failures, actor)
	} else if !r.stopping {
		r.failures[actor] = why
	}
}

// maintain keeps long calls alive and forgets old dedupe entries and
// tombstones.
func (r *Runtime) maintain() {
	t := time.NewTicker(min(r.opts.AckWait, r.opts.AliveTimeout) / 3)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
		}
		now := time.Now()
		var busy []jetstream.Msg
		r.mu.Lock()
		for k, at := range r.seen {
			if now.Sub(at) > r.opts.DedupeWindow {
				delete(r.seen, k)
			}
		}
		for k, at := range r.tombs {
			if now.Sub(at) > r.opts.DedupeWindow {
				delete(r.tombs, k)
			}
		}
		for _, vc := range r.sessions {
			busy = vc.pendingMsgs(busy)
		}
		gone := r.expireSilentLocked(now)
		r.mu.Unlock()
		for _, m := range busy {
			m.InProgress()
		}
		for _, vc := range gone {
			r.opts.Logger.Info("natscluster: runtime closed a session its gateway stopped listing", "sessionId", vc.id)
			r.h.OnClose(vc)
		}
	}
}

// handle takes one inbound message and acks it once handled (an rpc: once
// its result is published).
func (r *Runtime) handle(msg jetstream.Msg) {
	// The id is needed before the Handler runs the call, to recognise a
	// redelivery; a malformed rpc with an id is answered too. The Handler
	// reports the answer through vconn.RPCDone, which acks msg.
	var (
		m    protocol.Message
		perr error
	)
	env, err := decodeInbound(msg.Data(), r.opts.Namespace)
	if err == nil {
		m, perr = protocol.Parse(env.Message)
		if perr != nil && !jsonscan.Valid(env.Message) { // the envelope scan does not check the message's inside
			err = perr
		}
	}
	if err != nil {
		r.opts.Logger.Warn("natscluster: runtime terminated an undecodable envelope", "subject", msg.Subject(), "err", err)
		msg.Term() // not redelivered: it would fail again
		return
	}
	if env.Namespace != r.opts.Namespace {
		r.opts.Logger.Warn("natscluster: runtime terminated an envelope of another scope", "subject", msg.Subject(), "scope", env.Namespace)
		msg.Term() // defence in depth: never act on another namespace's frame
		return
	}
	answered := m.Type == protocol.TypeRPC && m.ID != nil
	if h := msg.Headers(); m.Type == protocol.TypeRPC && h.Get(HeaderTraceParent) != "" {
		// The gateway's span: the call continues it, not the client's.
		m.TraceParent, m.TraceState = h.Get(HeaderTraceParent), h.Get(HeaderTraceState)
	}

	r.mu.Lock()
	if _, gone := r.tombs[env.SessionID]; gone {
		r.mu.Unlock()
		r.opts.Logger.Debug("natscluster: runtime ignored a frame of a disconnected session", "sessionId", env.SessionID)
		msg.Ack()
		return
	}
	vc := r.sessions[env.SessionID]
	if vc == nil {
		vc = r.connect(&env, msg.Headers().Get(HeaderGateway))
	}
	if answered {
		key := env.SessionID + "\x00" + string(m.ID)
		if vc.redelivered(string(m.ID), msg) {
			r.mu.Unlock() // still running: its result acks this delivery
			return
		}
		if _, dup := r.seen[key]; dup {
			r.mu.Unlock()
			r.opts.Logger.Info("natscluster: runtime did not execute a redelivered rpc twice", "sessionId", env.SessionID, "id", string(m.ID))
			vc.ackAfterQueued(msg) // its result may still wait in the batcher
			return
		}
		r.seen[key] = time.Now()
		vc.expect(string(m.ID), msg)
	}
	r.mu.Unlock()
	if perr == nil {
		r.h.OnParsed(vc, m) // parsed once: the Handler does not parse it again
	} else {
		r.h.OnMessage(vc, env.Message) // the Handler answers or logs what is wrong
	}
	if !answered {
		msg.Ack()
	}
}

// connect creates a session's virtual connection from its first envelope
// and sends welcome. gateway is the envelope's HeaderGateway: a session of a
// Go gateway is answered through the gateway's batcher. The caller holds
// r.mu.
func (r *Runtime) connect(env *inboundWire, gateway string) *vconn {
	id := zocket.Identity{Claims: map[string]any{},
		Namespace: map[string]string{"workspaceId": r.opts.Namespace.WorkspaceID, "projectId": r.opts.Namespace.ProjectID}}
	id.UserID, _ = jsonscan.Unquote(env.UserID) // absent or null: none
	if err := json.Unmarshal(env.Claims, &id.Claims); err != nil || id.Claims == nil {
		id.Claims = map[string]any{} // absent, null or not an object
	}
	vc := &vconn{r: r, id: env.SessionID, identity: id, subject: OutboundSubject(r.opts.Namespace, env.SessionID),
		batch: r.gatewayBatcher(gateway)}
	r.sessions[env.SessionID] = vc
	r.h.OnConnection(vc) // sends welcome with the session id
	return vc
}

// onDisconnected runs onDisconnect for a session that closed at its
// gateway, and remembers it so that its late frames are ignored.
func (r *Runtime) onDisconnected(m *nats.Msg) {
	var n SessionDisconnectedNotice
	if json.Unmarshal(m.Data, &n) != nil || n.SessionID == "" {
		return
	}
	r.mu.Lock()
	vc := r.sessions[n.SessionID]
	delete(r.sessions, n.SessionID)
	r.tombs[n.SessionID] = time.Now()
	r.mu.Unlock()
	if vc != nil {
		r.dropBatcher(vc.batch)
		r.h.OnClose(vc)
	}
}

func (r *Runtime) outboundFailed(subject string, err error) {
	n := r.outboundFailures.Add(1)
	r.opts.Logger.Warn("natscluster: runtime outbound publish failed", "subject", subject, "err", err, "failures", n)
}

// OutboundFailures is how many outbound publishes failed.
func (r *Runtime) OutboundFailures() int64 { return r.outboundFailures.Load() }

// Sessions is the number of known gateway sessions.
func (r *Runtime) Sessions() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sessions)
}

// Stop stops consuming (unacked messages are redelivered to the next
// runtime), stops listening for notices, and closes every session, which
// runs onDisconnect. The App stays open: close it after Stop to run
// onDeactivate. Close the NATS connection too when the process goes on
// without a runtime: until then the server may still hand new messages to
// this runtime's outstanding pull requests, and they come back only after
// ack_wait.
func (r *Runtime) Stop(ctx context.Context) error {
	r.mu.Lock()
	if r.stopping {
		r.mu.Unlock()
		return nil
	}
	r.stopping = true
	loops, sub, alive, parts := r.loops, r.sub, r.alive, r.parts
	r.mu.Unlock()
	var err error
	if parts != nil {
		err = parts.shutdown(ctx)
	}
	r.mu.Lock()
	sessions := r.sessions
	r.sessions = map[string]*vconn{}
	r.mu.Unlock()
	close(r.stop)
	for _, cc := range loops {
		cc.Stop()
	}
	if sub != nil {
		err = errors.Join(err, sub.Unsubscribe(), alive.Unsubscribe())
	}
	for _, vc := range sessions {
		r.h.OnClose(vc)
	}
	r.done.Wait()
	select {
	case <-r.js.PublishAsyncComplete():
	case <-ctx.Done():
		err = errors.Join(err, ctx.Err())
	}
	return err
}

// HealthHandler serves GET /health: 200 with {"ok":true,
// "deploymentId","actorTypes","deployCount","workspaceId","projectId"},
// or 503 with "ok":false and an "error" once a consume loop died or NATS
// is disconnected.
func (r *Runtime) HealthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		r.mu.Lock()
		var whys []string
		for _, why := range r.failures {
			whys = append(whys, why)
		}
		started := r.started && !r.stopping
		parts := r.parts
		r.mu.Unlock()
		slices.Sort(whys)
		failure := strings.Join(whys, "; ")
		switch {
		case failure != "":
		case !started:
			failure = "not running"
		case !r.nc.IsConnected():
			failure = "NATS disconnected"
		}
		var dep any
		if r.opts.DeploymentID != "" {
			dep = r.opts.DeploymentID
		}
		body := map[string]any{"ok": failure == "", "deploymentId": dep, "actorTypes": r.app.ActorNames(), "deployCount": 1,
			"workspaceId": r.opts.Namespace.WorkspaceID, "projectId": r.opts.Namespace.ProjectID,
			"outboundFailures": r.outboundFailures.Load()}
		if parts != nil {
			held, members := parts.status()
			body["partitions"], body["partitionsHeld"], body["runtimes"] = parts.count, held, members
			body["runtimeId"] = r.opts.RuntimeID
		}
		w.Header().Set("Content-Type", "application/json")
		if failure != "" {
			body["error"] = failure
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		json.NewEncoder(w).Encode(body)
	})
}

// consumerGone reports whether a consume error means the consumer (or its
// stream) no longer exists, which pulling again will not fix.
func consumerGone(err error) bool {
	return errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) ||
		errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, nats.ErrNoResponders)
}
