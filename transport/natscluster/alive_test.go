package natscluster_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/testsupport/poll"
	"github.com/zocket-go/zocket/internal/testsupport/wstest"
	"github.com/zocket-go/zocket/transport/natscluster"
)

// A gateway lists its open sessions on core NATS for runtimes.
func TestGatewayListsItsOpenSessions(t *testing.T) {
	srv := startNATS(t)
	nc := connect(t, srv.ClientURL())
	notices := make(chan *nats.Msg, 16)
	sub, err := nc.ChanSubscribe(natscluster.AliveSubject(scope), notices)
	require.NoError(t, err)
	defer sub.Unsubscribe()
	g, err := natscluster.NewGateway(t.Context(), connect(t, srv.ClientURL()), natscluster.GatewayOptions{Authorizer: member(), AliveInterval: 20 * time.Millisecond})
	require.NoError(t, err)
	url := serveGateway(t, g)
	w := wstest.DialWelcome(t, url)
	deadline := time.After(5 * time.Second)
	for {
		select {
		case m := <-notices:
			var n natscluster.SessionsAliveNotice
			require.NoError(t, json.Unmarshal(m.Data, &n))
			if slices.Contains(n.SessionIDs, w.ClientID) {
				assert.Equal(t, scope, n.Namespace)
				return
			}
		case <-deadline:
			t.Fatal("the session was never listed")
		}
	}
}

// A runtime closes a session that a gateway listed as open and then
// stopped listing (its disconnect notice was lost, or its gateway
// crashed); sessions never listed are kept (TypeScript gateways send no
// lists).
func TestRuntimeClosesSessionsTheGatewayStoppedListing(t *testing.T) {
	srv := startNATS(t)
	nc := connect(t, srv.ClientURL())
	other := natscluster.Namespace{WorkspaceID: "ws-alive", ProjectID: "prj-alive"}
	var gone atomic.Int64
	app := newApp(&gone)
	rt, err := natscluster.NewRuntime(connect(t, srv.ClientURL()), app, natscluster.RuntimeOptions{Namespace: other, AliveTimeout: 150 * time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, rt.Start(t.Context()))
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rt.Stop(ctx)
		app.Close(ctx)
	}()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	for _, s := range []string{"listed", "unlisted"} {
		_, err := js.Publish(t.Context(), natscluster.InboundSubject(other, "room", "r"),
			envelope(t, other, s, `{"type":"rpc","id":"1","actor":"room","actorId":"r","method":"whoAmI"}`))
		require.NoError(t, err)
	}
	poll.Until(t, func() bool { return rt.Sessions() == 2 }, "saw both sessions")
	notice, _ := json.Marshal(natscluster.SessionsAliveNotice{Namespace: other, SessionIDs: []string{"listed"}, At: time.Now().UnixMilli()})
	require.NoError(t, nc.Publish(natscluster.AliveSubject(other), notice))

	poll.Until(t, func() bool { return gone.Load() == 1 && rt.Sessions() == 1 }, "closed the unlisted session")
	time.Sleep(300 * time.Millisecond)
	assert.Equal(t, 1, rt.Sessions(), "the never-listed session stays")
}
