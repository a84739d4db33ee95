package natscluster

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is an Observer that writes down what it hears.
type recorder struct {
	NopObserver
	closed    []string
	forwarded []RPC
	ends      []Publish
	published []Publish
}

func (r *recorder) SlowConsumerClosed(sessionID string) { r.closed = append(r.closed, sessionID) }

func (r *recorder) ForwardStart(ctx context.Context, rpc RPC) context.Context {
	r.forwarded = append(r.forwarded, rpc)
	return ctx
}

func (r *recorder) ForwardEnd(_ context.Context, _ RPC, p Publish) { r.ends = append(r.ends, p) }
func (r *recorder) PublishDone(p Publish)                          { r.published = append(r.published, p) }

func observedGateway(o Observer) *Gateway {
	return &Gateway{js: failingJS{}, opts: GatewayOptions{SendQueue: 4, SendQueueBytes: 1 << 20, Observer: o, Logger: slog.New(slog.DiscardHandler)}}
}

func TestGatewaySession_TellsTheObserverWhenItClosesASlowConsumer(t *testing.T) {
	rec := &recorder{}
	s := newSession(observedGateway(rec), nil, "s1", Authorization{Namespace: Namespace{"w", "p"}})
	s.out = make(chan []byte) // a queue that is always full
	s.once.Do(func() {})      // the socket is not real: closing it must do nothing here

	s.send([]byte(`{}`))
	assert.Equal(t, []string{"s1"}, rec.closed)
}

func TestGatewaySession_ReportsAForwardedRPCItCouldNotPublish(t *testing.T) {
	rec := &recorder{}
	s := newSession(observedGateway(rec), nil, "s1", Authorization{Namespace: Namespace{"w", "p"}})
	s.route(context.Background(), []byte(`{"type":"rpc","id":"r1","actor":"room","actorId":"x","method":"say","traceparent":"tp"}`))
	s.route(context.Background(), []byte(`{"type":"event:sub","actor":"room","actorId":"x"}`))

	assert.Equal(t, []RPC{{SessionID: "s1", Actor: "room", ActorID: "x", Method: "say", TraceParent: "tp"}}, rec.forwarded,
		"only the rpc is a forward, with the client's trace context")
	require.Len(t, rec.ends, 1)
	assert.ErrorContains(t, rec.ends[0].Err, "connection closed")
	require.Len(t, rec.published, 2, "every publish is reported")
	assert.Equal(t, RoleGateway, rec.published[1].Role)
	assert.Error(t, rec.published[1].Err)
}

func TestGatewaySession_ClosesAClientWhoseQueuedBytesPassTheBound(t *testing.T) {
	rec := &recorder{}
	g := observedGateway(rec)
	g.opts.SendQueue, g.opts.SendQueueBytes = 100, 1000
	s := newSession(g, nil, "s1", Authorization{Namespace: Namespace{"w", "p"}})
	s.once.Do(func() {}) // the socket is not real: closing it must do nothing here

	s.send(make([]byte, 1500)) // alone: over the bound, still queued
	assert.Empty(t, rec.closed, "a single frame over the bound goes out when nothing else waits")
	s.written(<-s.out)
	s.send(make([]byte, 600))
	s.send(make([]byte, 300))
	assert.Empty(t, rec.closed)
	s.send(make([]byte, 200)) // 1,100 bytes waiting
	assert.Equal(t, []string{"s1"}, rec.closed)
}
