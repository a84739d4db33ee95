package natscluster_test

import (
	"context"
	"encoding/json"
	"strings"
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

// envelope returns an InboundEnvelope for session with message.
func envelope(t *testing.T, sc natscluster.Namespace, session, message string) []byte {
	t.Helper()
	user := "u1"
	b, err := json.Marshal(natscluster.InboundEnvelope{Namespace: sc, SessionID: session, UserID: &user, Claims: map[string]any{}, Message: json.RawMessage(message)})
	require.NoError(t, err)
	return b
}

// outbound collects the messages published for a session.
func outbound(t *testing.T, nc *nats.Conn, session string) <-chan string {
	t.Helper()
	ch := make(chan string, 100)
	sub, err := nc.Subscribe(natscluster.OutboundSubject(scope, session), func(m *nats.Msg) {
		var env natscluster.OutboundEnvelope
		require.NoError(t, json.Unmarshal(m.Data, &env))
		assert.Equal(t, session, env.SessionID)
		assert.Equal(t, scope, env.Namespace)
		ch <- string(env.Message)
	})
	require.NoError(t, err)
	t.Cleanup(func() { sub.Unsubscribe() })
	return ch
}

func next(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no outbound message")
		return ""
	}
}

func nothing(t *testing.T, ch <-chan string) {
	t.Helper()
	select {
	case m := <-ch:
		t.Fatalf("unexpected outbound message %s", m)
	case <-time.After(300 * time.Millisecond):
	}
}

// The runtime's consumer: how many messages wait for an ack, were
// redelivered, are left.
func consumerInfo(t *testing.T, nc *nats.Conn) *jetstream.ConsumerInfo {
	t.Helper()
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	cons, err := js.Consumer(t.Context(), natscluster.InboundStream, natscluster.ConsumerName(scope, "room"))
	require.NoError(t, err)
	info, err := cons.Info(t.Context())
	require.NoError(t, err)
	return info
}

// A redelivered rpc (same session, same id) is not executed twice.
func TestRedeliveredRPCIsNotExecutedTwice(t *testing.T) {
	c := startCluster(t, member())
	nc := connect(t, c.url)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	out := outbound(t, nc, "s1")
	rpc := `{"type":"rpc","id":"d1","actor":"room","actorId":"dup","method":"say","input":{"text":"once"}}`
	for range 2 {
		_, err := js.Publish(t.Context(), natscluster.InboundSubject(scope, "room", "dup"), envelope(t, scope, "s1", rpc))
		require.NoError(t, err)
	}
	assert.JSONEq(t, `{"type":"welcome","clientId":"s1"}`, next(t, out))
	assert.JSONEq(t, `{"type":"rpc:result","id":"d1","result":1}`, next(t, out))
	nothing(t, out)
	// The state shows one execution.
	w := wstest.DialWelcome(t, c.wsURL)
	assert.Equal(t, []any{"once"}, w.Snapshot("room", "dup").(map[string]any)["messages"])
	poll.Until(t, func() bool { return consumerInfo(t, nc).NumAckPending == 0 }, "both deliveries acked")
}

// Undecodable envelopes and envelopes of another scope are terminated,
// not redelivered, and the consumer goes on.
func TestBadEnvelopesAreTerminated(t *testing.T) {
	c := startCluster(t, member())
	nc := connect(t, c.url)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	subject := natscluster.InboundSubject(scope, "room", "bad")
	for _, data := range [][]byte{
		[]byte("not json"),
		[]byte(`{"scope":{"workspaceId":"ws-1","projectId":"prj-1"}}`),
		envelope(t, natscluster.Namespace{WorkspaceID: "ws-2", ProjectID: "prj-1"}, "s9", `{"type":"rpc","id":"x","actor":"room","actorId":"bad","method":"whoAmI"}`),
	} {
		_, err := js.Publish(t.Context(), subject, data)
		require.NoError(t, err)
	}
	poll.Until(t, func() bool {
		info := consumerInfo(t, nc)
		return info.NumAckPending == 0 && info.NumPending == 0
	}, "the condition held")
	assert.Zero(t, consumerInfo(t, nc).NumRedelivered)
	w := wstest.DialWelcome(t, c.wsURL)
	assert.Equal(t, "user-123", w.MustCall("room", "bad", "whoAmI", nil).(map[string]any)["userId"], "the consumer goes on")
}

// A frame that arrives after its session's disconnect notice (the notice
// travels on core NATS and can overtake it) does not bring the session
// back.
func TestLateFrameAfterDisconnectIsIgnored(t *testing.T) {
	c := startCluster(t, member())
	nc := connect(t, c.url)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	out := outbound(t, nc, "late")
	notice, _ := json.Marshal(natscluster.SessionDisconnectedNotice{Namespace: scope, SessionID: "late", DisconnectedAt: time.Now().UnixMilli()})
	require.NoError(t, nc.Publish(natscluster.DisconnectedSubject(scope), notice))
	require.NoError(t, nc.Flush())
	time.Sleep(50 * time.Millisecond)
	_, err = js.Publish(t.Context(), natscluster.InboundSubject(scope, "room", "late"),
		envelope(t, scope, "late", `{"type":"rpc","id":"l1","actor":"room","actorId":"late","method":"whoAmI"}`))
	require.NoError(t, err)
	nothing(t, out)
	assert.Zero(t, c.runtime.Sessions())
	poll.Until(t, func() bool { return consumerInfo(t, nc).NumAckPending == 0 }, "acked every delivery")
}

// Work published while no runtime runs waits in INBOUND and is done by the
// next runtime; actor state does not survive a runtime (it is in memory),
// and the next runtime sends the session a welcome with the same id.
func TestRuntimeRestartDeliversWaitingWork(t *testing.T) {
	c := startCluster(t, member())
	w := wstest.DialWelcome(t, c.wsURL)
	assert.Equal(t, 1.0, w.MustCall("room", "r", "say", map[string]any{"text": "before"}))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, c.runtime.Stop(ctx))
	require.NoError(t, c.app.Close(ctx))
	c.rnc.Close() // as when the process exits: its pending pulls go with it
	id := w.RPC("room", "r", "say", map[string]any{"text": "while down"})
	time.Sleep(100 * time.Millisecond) // it waits in INBOUND

	c.startRuntime()
	frames := w.Until(func(f wstest.Frame) bool { return f.Type() == "rpc:result" && f["id"] == id })
	assert.Equal(t, 1.0, frames[len(frames)-1]["result"], "done once, by the new runtime, on fresh state")
	assert.Equal(t, "welcome", frames[0].Type())
	assert.Equal(t, w.ClientID, frames[0]["clientId"])
}

// A consume loop that dies is restarted (its consumer re-created), and
// /health says so meanwhile. Here the consumer is deleted under the
// runtime, and a foreign stream holding the inbound subjects keeps it from
// coming back until that stream goes.
func TestConsumeLoopIsRestartedAndHealthTellsMeanwhile(t *testing.T) {
	c := startCluster(t, member())
	nc := connect(t, c.url)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	require.NoError(t, js.DeleteStream(t.Context(), natscluster.InboundStream))
	_, err = js.CreateStream(t.Context(), jetstream.StreamConfig{Name: "SQUATTER", Subjects: []string{"inbound.>"}, Storage: jetstream.MemoryStorage})
	require.NoError(t, err)
	// The client library notices a deleted consumer by its heartbeats: a
	// matter of seconds, longer on a busy machine. poll.Until only bounds
	// a hang.
	poll.Until(t, func() bool {
		h := healthOf(c.runtime)
		return h.code == 503 && strings.Contains(h.body, "consume loop for room stopped")
	}, "health reports the stopped consume loop")

	require.NoError(t, js.DeleteStream(t.Context(), "SQUATTER"))
	poll.Until(t, func() bool { return healthOf(c.runtime).code == 200 }, "health recovers")
	w := wstest.DialWelcome(t, c.wsURL)
	assert.Equal(t, "user-123", w.MustCall("room", "back", "whoAmI", nil).(map[string]any)["userId"], "served again")
}

// A copy that arrives while the original still runs is suppressed too, and
// acked along with it.
func TestDuplicateWhileRunningIsAckedWithTheOriginal(t *testing.T) {
	c := startCluster(t, member())
	nc := connect(t, c.url)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	out := outbound(t, nc, "s2")
	rpc := `{"type":"rpc","id":"n1","actor":"room","actorId":"slowdup","method":"nap","input":{"ms":300}}`
	for range 2 {
		_, err := js.Publish(t.Context(), natscluster.InboundSubject(scope, "room", "slowdup"), envelope(t, scope, "s2", rpc))
		require.NoError(t, err)
	}
	assert.JSONEq(t, `{"type":"welcome","clientId":"s2"}`, next(t, out))
	assert.JSONEq(t, `{"type":"rpc:result","id":"n1"}`, next(t, out))
	nothing(t, out)
	poll.Until(t, func() bool { return consumerInfo(t, nc).NumAckPending == 0 }, "both acked")
}
