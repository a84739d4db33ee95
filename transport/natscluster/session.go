package natscluster

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zocket-go/zocket/internal/wscork"
	"github.com/zocket-go/zocket/protocol"
)

// session is one client socket on a gateway.
type session struct {
	g    *Gateway
	ws   *websocket.Conn
	sock *wscork.Conn // the socket under ws, for the data frames
	id   string
	auth Authorization
	head []byte // the session's InboundEnvelope up to the message, encoded once

	out  chan []byte   // frames for the socket, bounded
	acks chan inflight // published frames waiting for their PubAck, in order
	once sync.Once
	done chan struct{} // closed when the session ends

	follow follows // subscriptions to re-send when their instance moves (follow.go)

	// queuedFrames and queuedBytes count the frames in out and the batch
	// being written, for Gateway.Queues.
	queuedFrames, queuedBytes atomic.Int64
}

func newSession(g *Gateway, ws *websocket.Conn, id string, auth Authorization) *session {
	return &session{g: g, ws: ws, id: id, auth: auth, head: inboundHead(auth.Namespace, id, auth.UserID, auth.Claims),
		out: make(chan []byte, g.opts.SendQueue), acks: make(chan inflight, maxInflight), done: make(chan struct{})}
}

// serve runs a session until its socket closes; sock is the socket under
// ws.
func (g *Gateway) serve(ws *websocket.Conn, sock *wscork.Conn, auth Authorization) {
	s := newSession(g, ws, newSessionID(), auth)
	s.sock = sock
	g.mu.Lock()
	if g.relayDown { // its messages would be lost: the client retries
		g.mu.Unlock()
		g.refuseSession(ws)
		return
	}
	g.sessions[s.id] = s // the gateway's relay delivers to it from now on
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		delete(g.sessions, s.id)
		g.mu.Unlock()
	}()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var writer sync.WaitGroup
	writer.Go(func() { s.writeLoop(ctx) })

	var relay jetstream.ConsumeContext
	if g.opts.PerSessionOutbound {
		var err error
		if relay, err = s.relay(ctx); err != nil {
			g.opts.Logger.Error("natscluster: gateway cannot relay a session's outbound messages", "sessionId", s.id, "err", err)
			ws.Close(websocket.StatusInternalError, ReasonRelayStopped)
			cancel()
			writer.Wait()
			return
		}
	}
	g.notice(ConnectedSubject(auth.Namespace), SessionConnectedNotice{Namespace: auth.Namespace, SessionID: s.id, UserID: auth.UserID, ConnectedAt: time.Now().UnixMilli()})
	s.send(protocol.AppendWelcome(nil, s.id)) // at once: the id the runtime will use

	var acker sync.WaitGroup
	acker.Go(func() { s.ackLoop(ctx) })
	s.readLoop(ctx)
	s.follow.close()
	close(s.acks)
	acker.Wait() // each wait is bounded by PublishTimeout

	s.once.Do(func() { close(s.done) })
	if relay != nil {
		relay.Stop()
	}
	cancel()
	ws.CloseNow() // ends a write in progress
	writer.Wait()
	g.notice(DisconnectedSubject(auth.Namespace), SessionDisconnectedNotice{Namespace: auth.Namespace, SessionID: s.id, DisconnectedAt: time.Now().UnixMilli()})
}

// relay pipes the session's outbound subject to the socket
// (GatewayOptions.PerSessionOutbound) through an ordered consumer
// delivering from the start of what the stream holds (so answers published
// before it started arrive too). If the relay stops for good, the socket is
// closed with 1011 so that the client reconnects.
func (s *session) relay(ctx context.Context) (jetstream.ConsumeContext, error) {
	g := s.g
	cfg := jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{OutboundSubject(s.auth.Namespace, s.id)},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	}
	cons, err := g.js.OrderedConsumer(ctx, OutboundStream, cfg)
	if errors.Is(err, jetstream.ErrStreamNotFound) { // a restarted NATS lost the streams
		if _, err = EnsureStreams(ctx, g.js); err == nil {
			cons, err = g.js.OrderedConsumer(ctx, OutboundStream, cfg)
		}
	}
	if err != nil {
		return nil, err
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		env, err := decodeOutbound(m.Data(), s.auth.Namespace, s.id)
		if err != nil {
			g.opts.Logger.Warn("natscluster: gateway skipped an undecodable outbound envelope", "sessionId", s.id, "err", err)
			return
		}
		s.send(env.Message)
	}, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		g.opts.Logger.Debug("natscluster: gateway relay", "sessionId", s.id, "err", err)
		if errors.Is(err, jetstream.ErrServerShutdown) || consumerGone(err) {
			// The streams live in memory: after a NATS restart the
			// ordered consumer would resume at a sequence the new stream
			// has not reached. A new session starts clean.
			g.opts.Logger.Warn("natscluster: gateway lost its relay to NATS; closing the session", "sessionId", s.id, "err", err)
			s.close(websocket.StatusServiceRestart, ReasonNATSRestart)
		}
	}))
	if err != nil {
		return nil, err
	}
	go func() { // supervision, owned by the session: ends with it
		select {
		case <-cc.Closed():
			select {
			case <-s.done:
			default:
				g.opts.Logger.Error("natscluster: gateway relay stopped; closing the session", "sessionId", s.id)
				s.close(websocket.StatusInternalError, ReasonRelayStopped)
			}
		case <-s.done:
		}
	}()
	return cc, nil
}

// send queues a frame for the socket; a full queue (in frames or in
// bytes) closes the session.
func (s *session) send(frame []byte) {
	n := int64(len(frame))
	s.queuedFrames.Add(1) // before the writer can take it and uncount it
	if queued := s.queuedBytes.Add(n); queued > int64(s.g.opts.SendQueueBytes) && queued > n {
		s.written(frame)
		s.slowConsumer()
		return
	}
	select {
	case <-s.done:
		s.written(frame)
	case s.out <- frame:
	default:
		s.written(frame)
		s.slowConsumer()
	}
}

// slowConsumer closes a session whose client does not keep up.
func (s *session) slowConsumer() {
	s.g.opts.Logger.Warn("natscluster: gateway closed a slow consumer", "sessionId", s.id)
	s.close(websocket.StatusPolicyViolation, ReasonSlowConsumer)
	if o := s.g.opts.Observer; o != nil {
		o.SlowConsumerClosed(s.id)
	}
}

// written uncounts a frame that left the queue, written or not.
func (s *session) written(frame []byte) {
	s.queuedFrames.Add(-1)
	s.queuedBytes.Add(-int64(len(frame)))
}

// close ends the session with a close frame, once.
func (s *session) close(code websocket.StatusCode, reason string) {
	s.once.Do(func() {
		close(s.done)
		go s.ws.Close(code, reason) // waits for the peer; the read loop ends
	})
}

// writeTimeout bounds the writing of one batch of frames: a client that
// takes none of it for that long has its socket closed.
const writeTimeout = 10 * time.Second

// writeLoop writes the queued frames to the socket until the session ends:
// each time, every frame waiting (up to a cork's worth) as one batch.
func (s *session) writeLoop(ctx context.Context) {
	stuck := s.stuckTimer()
	defer stuck.Stop()
	var batch [][]byte
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.done:
			return
		case f := <-s.out:
			batch = s.waiting(append(batch[:0], f))
		}
		if err := s.write(batch, stuck); err != nil {
			s.ws.CloseNow()
			return
		}
	}
}

// stuckTimer returns a stopped timer that closes the socket, which
// unblocks a stuck write, and the read loop, so that the session ends.
func (s *session) stuckTimer() *time.Timer {
	t := time.AfterFunc(writeTimeout, func() { s.sock.Close() })
	t.Stop()
	return t
}

// waiting appends the frames waiting in the queue to batch, until batch
// holds a cork's worth (wscork.MaxCork) of bytes.
func (s *session) waiting(batch [][]byte) [][]byte {
	size := 0
	for _, f := range batch {
		size += len(f)
	}
	for size < wscork.MaxCork {
		select {
		case f := <-s.out:
			batch = append(batch, f)
			size += len(f)
		default:
			return batch
		}
	}
	return batch
}

// write writes batch corked, in one system call when it fits the cork, and
// uncounts it. stuck is reset for writeTimeout meanwhile.
func (s *session) write(batch [][]byte, stuck *time.Timer) error {
	stuck.Reset(writeTimeout)
	err := s.sock.WriteBatch(batch)
	stuck.Stop()
	for i, f := range batch {
		s.written(f)
		batch[i] = nil // the frames are not the session's to keep
	}
	return err
}

// readLoop publishes each client frame, in order, until the socket ends.
func (s *session) readLoop(ctx context.Context) {
	for {
		_, data, err := s.ws.Read(ctx)
		if err != nil {
			return
		}
		s.route(ctx, data)
	}
}

// route publishes one client frame to INBOUND, in arrival order: frames that
// are not objects with string actor and actorId are dropped; an rpc that
// cannot be routed is answered with an error.
func (s *session) route(ctx context.Context, data []byte) {
	g := s.g
	var head frameHead
	if err := json.Unmarshal(data, &head); err != nil || head.Actor == nil || head.ActorID == nil {
		g.opts.Logger.Debug("natscluster: gateway dropped an unroutable frame", "sessionId", s.id, "err", err)
		return
	}
	if err := firstErr(ValidToken("actor", *head.Actor), ValidActorID(*head.ActorID)); err != nil {
		g.opts.Logger.Info("natscluster: gateway refused a frame with an invalid subject token", "sessionId", s.id, "err", err)
		if head.isRPC() {
			s.send(protocol.AppendError(nil, head.ID, "Invalid actor or actorId: "+err.Error()))
		}
		return
	}
	msg := s.inboundMsg(*head.Actor, *head.ActorID, data)
	s.track(head, msg.Subject, data)
	p := inflight{head: head}
	if o := g.opts.Observer; o != nil {
		p.at = time.Now()
		if head.isRPC() {
			p.fwd = s.forward(ctx, o, data)
			if h := traceHeader(o, p.fwd); h != nil {
				maps.Copy(h, msg.Header) // the shared header stays as it is
				msg.Header = h
			}
		}
	}
	fut, err := g.js.PublishMsgAsync(msg)
	if err != nil {
		s.published(p, s.publishFailed(ctx, head, nil, err))
		return
	}
	p.fut = fut
	s.acks <- p // waits while maxInflight frames are unacknowledged
}

// forward starts observing an rpc: frame is the client's, whose method
// and trace context the Observer learns.
func (s *session) forward(ctx context.Context, o Observer, frame []byte) *forward {
	m, _ := protocol.Parse(frame) // the head was read: what is malformed is the runtime's to answer
	rpc := RPC{SessionID: s.id, Actor: m.Actor, ActorID: m.ActorID, Method: m.Method,
		TraceParent: m.TraceParent, TraceState: m.TraceState}
	return &forward{ctx: o.ForwardStart(ctx, rpc), rpc: rpc}
}

// published reports a publish that was acknowledged (err nil) or failed.
func (s *session) published(p inflight, err error) {
	o := s.g.opts.Observer
	if o == nil {
		return
	}
	pub := Publish{Role: RoleGateway, Duration: time.Since(p.at), Err: err}
	o.PublishDone(pub)
	if p.fwd != nil {
		o.ForwardEnd(p.fwd.ctx, p.fwd.rpc, pub)
	}
}

// maxInflight is how many of a session's frames may wait for their PubAck
// while the gateway reads the next ones.
const maxInflight = 64

// inflight is a published frame waiting for its PubAck.
type inflight struct {
	fut  jetstream.PubAckFuture
	head frameHead
	// Set only when the gateway has an Observer.
	at  time.Time // when it was published
	fwd *forward  // an rpc's
}

// ackLoop waits for the PubAcks of the session's frames, in publish order,
// until the read loop closes acks.
func (s *session) ackLoop(ctx context.Context) {
	timer := time.NewTimer(s.g.opts.PublishTimeout)
	defer timer.Stop()
	for p := range s.acks {
		timer.Reset(s.g.opts.PublishTimeout)
		var err error
		select {
		case <-p.fut.Ok():
		case err = <-p.fut.Err():
			err = s.publishFailed(ctx, p.head, p.fut, err)
		case <-timer.C:
			err = s.publishFailed(ctx, p.head, p.fut, jetstream.ErrAsyncPublishTimeout)
		}
		s.published(p, err)
	}
}

// publishFailed handles a frame that did not reach INBOUND. When no stream
// answered (the streams live in memory: a NATS restart loses them) it
// re-creates the streams and publishes the frame once more, waiting;
// otherwise, and if that fails too, an rpc gets an error answer instead of
// a timeout. It returns nil when the frame was published after all, else
// why it was not.
func (s *session) publishFailed(ctx context.Context, head frameHead, fut jetstream.PubAckFuture, err error) error {
	g := s.g
	if fut != nil && errors.Is(err, jetstream.ErrNoStreamResponse) {
		pctx, cancel := context.WithTimeout(ctx, g.opts.PublishTimeout)
		defer cancel()
		if _, err = EnsureStreams(pctx, g.js); err == nil {
			if _, err = g.js.PublishMsg(pctx, fut.Msg()); err == nil {
				return nil
			}
		}
	}
	g.opts.Logger.Warn("natscluster: gateway could not publish a frame", "sessionId", s.id, "err", err)
	if head.isRPC() {
		s.send(protocol.AppendError(nil, head.ID, "Gateway could not route the message"))
	}
	return err
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// notice publishes a session notice on core NATS.
func (g *Gateway) notice(subject string, v any) {
	b, _ := json.Marshal(v)
	if err := g.nc.Publish(subject, b); err != nil {
		g.opts.Logger.Warn("natscluster: gateway could not publish a session notice", "subject", subject, "err", err)
	}
}
