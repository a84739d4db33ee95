package natscluster_test

import (
	"encoding/json"
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

// The gateway's envelopes and notices carry exactly the TS members:
// the client frame verbatim (unknown members too), userId left out when
// there is none, claims an object.
func TestGatewayEnvelopesAndNotices(t *testing.T) {
	anonymous := natscluster.StaticAuthorizer{Namespace: scope}
	c := startCluster(t, anonymous)
	nc := connect(t, c.url)
	notices := make(chan *nats.Msg, 4)
	sub, err := nc.ChanSubscribe("session.*.ws-1.prj-1", notices)
	require.NoError(t, err)
	defer sub.Unsubscribe()
	require.NoError(t, nc.Flush())

	// A consumer of our own on INBOUND sees what the gateway publishes
	// (the runtime's consumer only takes "room"; this actor has none).
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	cons, err := js.CreateConsumer(t.Context(), natscluster.InboundStream, jetstream.ConsumerConfig{FilterSubject: "inbound.ws-1.prj-1.other.>", AckPolicy: jetstream.AckExplicitPolicy})
	require.NoError(t, err)

	w := wstest.DialWelcome(t, c.wsURL)
	connected := <-notices
	assert.Equal(t, "session.connected.ws-1.prj-1", connected.Subject)
	var cn map[string]any
	require.NoError(t, json.Unmarshal(connected.Data, &cn))
	assert.Equal(t, w.ClientID, cn["sessionId"])
	assert.Equal(t, map[string]any{"workspaceId": "ws-1", "projectId": "prj-1"}, cn["scope"])
	assert.NotContains(t, cn, "userId")
	assert.InDelta(t, float64(time.Now().UnixMilli()), cn["connectedAt"], 5000)

	frame := `{"type":"event:sub","actor":"other","actorId":"x.y","extra":[1,2]}`
	w.SendRaw(frame)
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	require.NoError(t, err)
	m := <-batch.Messages()
	require.NotNil(t, m)
	assert.Equal(t, "inbound.ws-1.prj-1.other.x.y", m.Subject())
	assert.JSONEq(t, `{"scope":{"workspaceId":"ws-1","projectId":"prj-1"},"sessionId":"`+w.ClientID+`","claims":{},"message":`+frame+`}`, string(m.Data()))
	m.Ack()

	w.Close()
	disconnected := <-notices
	assert.Equal(t, "session.disconnected.ws-1.prj-1", disconnected.Subject)
	var dn natscluster.SessionDisconnectedNotice
	require.NoError(t, json.Unmarshal(disconnected.Data, &dn))
	assert.Equal(t, w.ClientID, dn.SessionID)
}

// When OUTBOUND is gone, the runtime's publishes fail: counted, logged and
// shown by /health.
func TestOutboundPublishFailuresAreCounted(t *testing.T) {
	c := startCluster(t, member())
	js, err := jetstream.New(connect(t, c.url))
	require.NoError(t, err)
	require.NoError(t, js.DeleteStream(t.Context(), natscluster.OutboundStream))
	_, err = js.Publish(t.Context(), natscluster.InboundSubject(scope, "room", "f"),
		envelope(t, scope, "pf", `{"type":"rpc","id":"p1","actor":"room","actorId":"f","method":"whoAmI"}`))
	require.NoError(t, err)
	poll.Until(t, func() bool { return c.runtime.OutboundFailures() >= 2 }, "counted the failed welcome and result")
	assert.Contains(t, healthOf(c.runtime).body, `"outboundFailures":2`)
}
