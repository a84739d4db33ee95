package nats

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
)

// failingJS refuses every publish.
type failingJS struct{ jetstream.JetStream }

func (failingJS) PublishAsync(string, []byte, ...jetstream.PublishOpt) (jetstream.PubAckFuture, error) {
	return nil, errors.New("nats: connection closed")
}

// An rpc the gateway cannot publish is answered with an error instead of
// timing out at the client (G12); other frames are dropped.
func TestUnpublishableRPCIsAnswered(t *testing.T) {
	g := &Gateway{js: failingJS{}, opts: GatewayOptions{PublishTimeout: time.Second, Logger: slog.New(slog.DiscardHandler)}}
	s := &session{g: g, id: "s1", auth: Authorization{Scope: Scope{"w", "p"}}, out: make(chan []byte, 4), done: make(chan struct{})}
	s.route(context.Background(), []byte(`{"type":"rpc","id":"r1","actor":"room","actorId":"x","method":"m"}`))
	s.route(context.Background(), []byte(`{"type":"event:sub","actor":"room","actorId":"x"}`))
	select {
	case f := <-s.out:
		assert.JSONEq(t, `{"type":"rpc:result","id":"r1","error":"Gateway could not route the message"}`, string(f))
	default:
		t.Fatal("no answer")
	}
	assert.Empty(t, s.out, "nothing for the subscription")
}
