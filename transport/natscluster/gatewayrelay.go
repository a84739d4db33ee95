package natscluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zocket-go/zocket/internal/jsonscan"
)

// The gateway's relay (unless GatewayOptions.PerSessionOutbound): one
// ordered consumer on the gateway's subject in every namespace
// (GatewayOutboundSubject), created before the gateway accepts a socket.
// Each message carries a frame and the ids of the sessions it is for; the
// relay writes it to each listed session the gateway holds in the
// subject's namespace. A session's messages all travel on that one subject,
// so they arrive in the order the runtime published them.
//
// If the consumer fails for good (its stream is gone, as after a NATS
// restart: the streams live in memory), every session is closed with 1012
// and the consumer is created anew, with backoff, once the stream is back;
// sockets that arrive meanwhile are refused the same way, after creating
// the streams if they are missing (as a session's own consumer would).
// Clients reconnect and resubscribe.

// startRelay creates the gateway's ordered consumer and starts consuming
// it. lost receives a value when the consumer fails for good.
func (g *Gateway) startRelay(ctx context.Context) (cc jetstream.ConsumeContext, lost <-chan struct{}, err error) {
	cons, err := g.js.OrderedConsumer(ctx, OutboundStream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{gatewayOutboundFilter(g.id)},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("natscluster: gateway outbound consumer: %w", err)
	}
	failed := make(chan struct{}, 1)
	cc, err = cons.Consume(g.dispatch, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		g.opts.Logger.Debug("natscluster: gateway relay", "gatewayId", g.id, "err", err)
		if errors.Is(err, jetstream.ErrServerShutdown) || consumerGone(err) {
			select {
			case failed <- struct{}{}:
			default:
			}
		}
	}))
	if err != nil {
		return nil, nil, fmt.Errorf("natscluster: gateway outbound consumer: %w", err)
	}
	return cc, failed, nil
}

// superviseRelay replaces a failed relay, after closing every session,
// until Shutdown.
func (g *Gateway) superviseRelay(cc jetstream.ConsumeContext, lost <-chan struct{}) {
	for {
		select {
		case <-g.stop:
			cc.Stop()
			return
		case <-lost:
		case <-cc.Closed():
		}
		cc.Stop()
		g.relayLost()
		var ok bool
		if cc, lost, ok = g.restartRelay(); !ok {
			return
		}
		g.mu.Lock()
		g.relayDown = false
		g.mu.Unlock()
		g.opts.Logger.Info("natscluster: gateway relay restarted", "gatewayId", g.id)
	}
}

// relayLost closes every session, which can no longer be sure to get its
// messages, and refuses new ones until the relay is back.
func (g *Gateway) relayLost() {
	g.opts.Logger.Warn("natscluster: gateway lost its relay to NATS; closing every session", "gatewayId", g.id)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.relayDown = true
	for _, s := range g.sessions {
		s.close(websocket.StatusServiceRestart, ReasonNATSRestart)
	}
}

// restartRelay creates the relay anew, with backoff, until it succeeds
// (ok) or Shutdown. It does not create a missing stream: a runtime
// restarting its consume loops or a client connecting (refuseSession) does.
func (g *Gateway) restartRelay() (cc jetstream.ConsumeContext, lost <-chan struct{}, ok bool) {
	backoff := 50 * time.Millisecond
	for {
		select {
		case <-g.stop:
			return nil, nil, false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), g.opts.PublishTimeout)
		cc, lost, err := g.startRelay(ctx)
		cancel()
		if err == nil {
			return cc, lost, true
		}
		g.opts.Logger.Warn("natscluster: gateway cannot restart its relay yet", "gatewayId", g.id, "err", err)
	}
}

// refuseSession closes a socket that arrived while the relay is down,
// after creating the streams if they are missing so that the relay can
// come back.
func (g *Gateway) refuseSession(ws *websocket.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), g.opts.PublishTimeout)
	defer cancel()
	if _, err := EnsureStreams(ctx, g.js); err != nil {
		g.opts.Logger.Warn("natscluster: gateway cannot create the streams", "err", err)
	}
	ws.Close(websocket.StatusServiceRestart, ReasonNATSRestart)
}

// dispatch writes one GatewayOutboundEnvelope's message to each listed
// session of the subject's namespace; ids the gateway does not hold (a
// session that closed) are skipped.
func (g *Gateway) dispatch(m jetstream.Msg) {
	ns, ok := subjectNamespace(m.Subject())
	if !ok {
		return
	}
	data := m.Data()
	if len(data) == 0 || data[0] != '[' {
		g.dispatchOne(m.Subject(), ns, data)
		return
	}
	// A batch: several envelopes, in order, in a JSON array.
	i := jsonscan.SkipSpace(data, 1)
	if closed(data, i) {
		return
	}
	for {
		end := jsonscan.SkipValid(data, i)
		if end < 0 {
			break
		}
		g.dispatchOne(m.Subject(), ns, data[i:end])
		i = jsonscan.SkipSpace(data, end)
		if closed(data, i) {
			return
		}
		if i >= len(data) || data[i] != ',' {
			break
		}
		i = jsonscan.SkipSpace(data, i+1)
	}
	g.opts.Logger.Warn("natscluster: gateway skipped the rest of an undecodable outbound batch", "subject", m.Subject())
}

// closed reports whether data[i] is the "]" that ends data.
func closed(data []byte, i int) bool {
	return i < len(data) && data[i] == ']' && jsonscan.SkipSpace(data, i+1) == len(data)
}

// dispatchOne writes one envelope's message to its listed sessions.
func (g *Gateway) dispatchOne(subject string, ns Namespace, data []byte) {
	env, err := decodeOutbound(data, ns, "")
	if err != nil {
		g.opts.Logger.Warn("natscluster: gateway skipped an undecodable outbound envelope", "subject", subject, "err", err)
		return
	}
	targets := make([]*session, 0, env.NumSessionIDs)
	g.mu.Lock()
	for id := range env.SessionIDs() {
		if s := g.sessions[string(id)]; s != nil && s.auth.Namespace == ns {
			targets = append(targets, s)
		}
	}
	g.mu.Unlock()
	for _, s := range targets {
		s.send(env.Message)
	}
}

// subjectNamespace reads the namespace of an outbound subject.
func subjectNamespace(subject string) (Namespace, bool) {
	parts := strings.Split(subject, ".")
	if len(parts) != 4 {
		return Namespace{}, false
	}
	return Namespace{WorkspaceID: parts[1], ProjectID: parts[2]}, true
}
