package natscluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zocket-go/zocket/internal/wscork"
	"github.com/zocket-go/zocket/transport/wscore"
)

// GatewayOptions configures a Gateway.
type GatewayOptions struct {
	// Authorizer admits clients (required): an HTTPAuthorizer against the
	// control plane, or a StaticAuthorizer for development.
	Authorizer Authorizer
	// OriginPatterns restricts browser origins (path.Match host
	// patterns). Empty admits any origin, as the TypeScript gateway does:
	// clients authenticate with their token, not with cookies.
	OriginPatterns []string
	// ReadLimit is the largest accepted client frame (default 1 MiB).
	ReadLimit int64
	// SendQueue bounds the frames waiting for a client's socket (default
	// 1024); a client that falls further behind is closed with 1008.
	SendQueue int
	// SendQueueBytes bounds the bytes of those frames (default 16 MiB), so
	// that a few huge frames cannot hold gigabytes; beyond it the client
	// is closed with 1008 too. A single frame larger than the bound still
	// goes out when nothing else is waiting.
	SendQueueBytes int
	// PublishTimeout bounds the wait for a frame's PubAck (default 5 s).
	PublishTimeout time.Duration
	// AliveInterval is how often the gateway lists its open sessions on
	// core NATS for runtimes (default 30 s; negative: never). See
	// SessionsAliveNotice.
	AliveInterval time.Duration
	// PerSessionOutbound makes the gateway read each session's messages
	// through a consumer of its own on outbound.{ws}.{prj}.{sessionId},
	// as the TypeScript gateway does. Set it when any runtime behind the
	// gateway may be a TypeScript one, which publishes only there. By
	// default (false, Go runtimes) the gateway has one consumer for all
	// its sessions, on GatewayOutboundSubject, and marks its INBOUND
	// messages with HeaderGateway so that runtimes send there, each frame
	// once for all the gateway's sessions it is for.
	PerSessionOutbound bool
	// Observer hears each publish to INBOUND and its acknowledgement, each
	// forwarded rpc (whose trace context it sends along in the message's
	// headers) and each slow consumer closed (default: none).
	Observer Observer
	// Logger receives the gateway's logs (default: discard).
	Logger *slog.Logger
	// MaxSubscriptions bounds the subscriptions (state:sub and event:sub,
	// counted per instance and kind) the gateway remembers per session to
	// send again when their instance moves to another runtime; set it to
	// the runtimes' zocket.WithMaxSubscriptions (default
	// zocket.DefaultMaxSubscriptions; negative: no limit).
	MaxSubscriptions int
	// MembershipRetry is how often the gateway looks for the runtimes'
	// membership bucket (RuntimesBucket) until it exists, and watches it
	// again after an error (default 2 s).
	MembershipRetry time.Duration
}

// Close reasons sent by the gateway.
const (
	ReasonSlowConsumer  = "slow consumer: outbound queue full"
	ReasonShutdown      = "gateway shutting down"
	ReasonRelayStopped  = "outbound relay stopped"
	ReasonNATSRestart   = "NATS restarted; reconnect"
	upgradeRequiredBody = "Zocket Gateway — WebSocket upgrade required"
)

// Gateway ends client WebSockets (docs/distributed.md): it authorizes each upgrade,
// publishes the client's frames to INBOUND in order (up to 64 waiting for
// their PubAck at a time), and relays OUTBOUND messages to the sockets
// through one ordered consumer on its own subject, created before it
// accepts a socket, so that no answer is published before it listens (or,
// with GatewayOptions.PerSessionOutbound, through one ordered consumer per
// session that starts at the beginning of the session's subject). It sends
// welcome at once and holds no actor state. A Gateway is an http.Handler:
// /health answers {"ok":true} while NATS is connected, every other path
// upgrades.
type Gateway struct {
	nc   *nats.Conn
	js   jetstream.JetStream
	opts GatewayOptions
	id   string // a UUID, for GatewayOutboundSubject and HeaderGateway
	// header goes on every INBOUND message (HeaderGateway, unless
	// PerSessionOutbound); shared by all of them, so never modified.
	header nats.Header

	mu        sync.Mutex
	sessions  map[string]*session // by id
	closing   bool
	relayDown bool // the gateway's relay failed and is being replaced
	wg        sync.WaitGroup

	stop   chan struct{}  // closed by Shutdown
	loops  sync.WaitGroup // the alive loop and the relay's supervisor
	follow *follower      // re-sends subscriptions of moved instances (follow.go)
}

// NewGateway ensures the streams (logging any drift) and returns a Gateway
// publishing through nc.
func NewGateway(ctx context.Context, nc *nats.Conn, opts GatewayOptions) (*Gateway, error) {
	if opts.Authorizer == nil {
		return nil, errors.New("natscluster: GatewayOptions.Authorizer is required")
	}
	if opts.ReadLimit <= 0 {
		opts.ReadLimit = 1 << 20
	}
	if opts.SendQueue <= 0 {
		opts.SendQueue = 1024
	}
	if opts.SendQueueBytes <= 0 {
		opts.SendQueueBytes = 16 << 20
	}
	if opts.PublishTimeout <= 0 {
		opts.PublishTimeout = 5 * time.Second
	}
	if opts.AliveInterval == 0 {
		opts.AliveInterval = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	drifts, err := EnsureStreams(ctx, js)
	for _, d := range drifts {
		opts.Logger.Warn("natscluster: stream configuration drift", "drift", d.String())
	}
	if err != nil {
		return nil, err
	}
	g := &Gateway{nc: nc, js: js, opts: opts, id: newSessionID(), sessions: map[string]*session{}, stop: make(chan struct{})}
	if !opts.PerSessionOutbound { // runtimes answer on the gateway's subject
		g.header = nats.Header{HeaderGateway: []string{g.id}}
	}
	if !opts.PerSessionOutbound {
		cc, lost, err := g.startRelay(ctx)
		if err != nil {
			return nil, err
		}
		g.loops.Go(func() { g.superviseRelay(cc, lost) })
	}
	if opts.AliveInterval > 0 {
		g.loops.Go(func() { g.aliveLoop(g.stop) })
	}
	g.startFollowing()
	return g, nil
}

// ServeHTTP serves /health and upgrades every other request, once authorized.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/health" {
		w.Header().Set("Content-Type", "application/json")
		if !g.nc.IsConnected() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"ok":false,"error":"NATS disconnected"}`)
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
		return
	}
	if r.Host == "" {
		http.Error(w, "Missing host header", http.StatusUnauthorized)
		return
	}
	var token *string
	if q := r.URL.Query(); q.Has("token") {
		t := q.Get("token")
		token = &t
	}
	auth, err := g.opts.Authorizer.Authorize(r.Context(), r.Host, token)
	if err != nil {
		g.opts.Logger.Info("natscluster: gateway refused a client", "host", r.Host, "err", err)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, upgradeRequiredBody, http.StatusUpgradeRequired)
		return
	}
	g.mu.Lock()
	if g.closing {
		g.mu.Unlock()
		http.Error(w, ReasonShutdown, http.StatusServiceUnavailable)
		return
	}
	g.wg.Add(1)
	g.mu.Unlock()
	defer g.wg.Done()
	// The session writes its data frames to the socket itself, corked, so
	// that a batch leaves in one system call; coder/websocket writes only
	// control frames. No compression is negotiated, so every data frame
	// is a plain text frame.
	cw := &wscork.Writer{ResponseWriter: w, WriteBufferSize: 256}
	ws, err := websocket.Accept(cw, r, &websocket.AcceptOptions{
		OriginPatterns:     g.opts.OriginPatterns,
		InsecureSkipVerify: len(g.opts.OriginPatterns) == 0,
	})
	if err != nil {
		g.opts.Logger.Info("natscluster: gateway upgrade failed", "err", err)
		return
	}
	if cw.Conn == nil {
		g.opts.Logger.Error("natscluster: gateway upgrade did not hijack", "err", wscork.ErrNotHijacked)
		ws.CloseNow()
		return
	}
	ws.SetReadLimit(g.opts.ReadLimit)
	g.serve(ws, cw.Conn, auth)
}

// ID is the gateway's id, a UUID chosen at start: its messages to INBOUND
// carry it in HeaderGateway, and runtimes answer on
// GatewayOutboundSubject(namespace, ID).
func (g *Gateway) ID() string { return g.id }

// Shutdown closes every session with 1001 and waits for them to end, or
// for ctx, and stops the gateway's goroutines.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.mu.Lock()
	if !g.closing {
		close(g.stop)
	}
	g.closing = true
	for _, s := range g.sessions {
		s.close(websocket.StatusGoingAway, ReasonShutdown)
	}
	g.mu.Unlock()
	g.follow.stop()
	done := make(chan struct{})
	go func() { g.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		g.mu.Lock()
		for _, s := range g.sessions {
			s.ws.CloseNow()
		}
		g.mu.Unlock()
		<-done
		err = ctx.Err()
	}
	g.loops.Wait()
	return err
}

// Queues returns the outbound queues of the open sessions in aggregate:
// their number, the frames and bytes queued for the sockets and not yet
// written, and the largest queue, as the WebSocket transports' Queues do.
// It reads each session's counters without locking them, so it is cheap
// enough for every metrics collection.
func (g *Gateway) Queues() wscore.QueueStats {
	g.mu.Lock()
	defer g.mu.Unlock()
	var q wscore.QueueStats
	for _, s := range g.sessions {
		q.Add(int(s.queuedFrames.Load()), int(s.queuedBytes.Load()))
	}
	return q
}

// Len returns the number of open sessions.
func (g *Gateway) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.sessions)
}

// newSessionID returns a random UUID v4, like crypto.randomUUID.
func newSessionID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// frameHead is what the gateway reads of a client frame to route it.
type frameHead struct {
	Type    *string         `json:"type"`
	ID      json.RawMessage `json:"id"`
	Actor   *string         `json:"actor"`
	ActorID *string         `json:"actorId"`
}

func (h *frameHead) isRPC() bool { return h.Type != nil && *h.Type == "rpc" && len(h.ID) > 0 }
