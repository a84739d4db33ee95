package natscluster

import (
	"encoding/json"

	"context"
	"errors"
	"github.com/stretchr/testify/require"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
)

// failingJS refuses every publish.
type failingJS struct{ jetstream.JetStream }

func (failingJS) PublishAsync(string, []byte, ...jetstream.PublishOpt) (jetstream.PubAckFuture, error) {
	return nil, errors.New("nats: connection closed")
}

func (failingJS) PublishMsgAsync(*nats.Msg, ...jetstream.PublishOpt) (jetstream.PubAckFuture, error) {
	return nil, errors.New("nats: connection closed")
}

// An rpc the gateway cannot publish is answered with an error instead of
// timing out at the client; other frames are dropped.
func TestUnpublishableRPCIsAnswered(t *testing.T) {
	g := &Gateway{js: failingJS{}, opts: GatewayOptions{PublishTimeout: time.Second, SendQueue: 4, Logger: slog.New(slog.DiscardHandler)}}
	s := newSession(g, nil, "s1", Authorization{Namespace: Namespace{"w", "p"}})
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

// The per-session envelope head plus a frame is the InboundEnvelope that
// encoding/json would produce, frame verbatim.
func TestInboundHeadCompletesTheEnvelope(t *testing.T) {
	user := "u1"
	frame := `{"type":"rpc","id":1,"actor":"a","actorId":"b","x":[1, 2]}`
	for _, tc := range []struct {
		user   *string
		claims map[string]any
	}{{nil, nil}, {&user, map[string]any{"role": "admin", "n": 2.0}}} {
		got := append(append(inboundHead(Namespace{"w", "p"}, "s1", tc.user, tc.claims), frame...), '}')
		var env InboundEnvelope
		require.NoError(t, json.Unmarshal(got, &env))
		want := tc.claims
		if want == nil {
			want = map[string]any{}
		}
		assert.Equal(t, InboundEnvelope{Namespace: Namespace{"w", "p"}, SessionID: "s1", UserID: tc.user, Claims: want, Message: json.RawMessage(frame)}, env)
	}
}
