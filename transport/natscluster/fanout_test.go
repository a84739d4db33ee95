package natscluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/testsupport/poll"
	"github.com/zocket-go/zocket/internal/testsupport/wstest"
	"github.com/zocket-go/zocket/transport/natscluster"
)

// socket is a bare WebSocket client, light enough to open hundreds.
type socket struct {
	t  *testing.T
	ws *websocket.Conn
	id string // from the gateway's welcome
}

// dialSocket connects and reads the gateway's welcome.
func dialSocket(t *testing.T, url string) *socket {
	t.Helper()
	s, err := trySocket(t, url)
	require.NoError(t, err)
	return s
}

// trySocket connects and reads the first frame, which must be welcome.
func trySocket(t *testing.T, url string) (*socket, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wstest.Patience)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { ws.CloseNow() })
	s := &socket{t: t, ws: ws}
	f, _, err := s.read()
	if err != nil {
		return nil, err
	}
	if f["type"] != "welcome" {
		return nil, errors.New("first frame is not welcome")
	}
	s.id = f["clientId"].(string)
	return s, nil
}

func (s *socket) read() (f map[string]any, data []byte, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), wstest.Patience)
	defer cancel()
	if _, data, err = s.ws.Read(ctx); err != nil {
		return nil, nil, err
	}
	return f, data, json.Unmarshal(data, &f)
}

func (s *socket) send(frame string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wstest.Patience)
	defer cancel()
	require.NoError(s.t, s.ws.Write(ctx, websocket.MessageText, []byte(frame)))
}

// until returns the frames up to and including the first of type typ
// whose text contains each of texts.
func (s *socket) until(typ string, texts ...string) []map[string]any {
	s.t.Helper()
	var fs []map[string]any
	for {
		f, data, err := s.read()
		require.NoError(s.t, err)
		fs = append(fs, f)
		if f["type"] == typ && containsAll(string(data), texts) {
			return fs
		}
	}
}

func containsAll(s string, texts []string) bool {
	for _, t := range texts {
		if !strings.Contains(s, t) {
			return false
		}
	}
	return true
}

// warmUp makes the caller known to room/id (its onConnect commit is
// published, to every subscriber) before the test's own commit.
func warmUp(t *testing.T, caller *wstest.Client, id string) {
	t.Helper()
	caller.MustCall("room", id, "whoAmI", nil)
}

// subscribers opens n sockets subscribed to the state of room/id, each
// with its snapshot received.
func subscribers(t *testing.T, url string, n int, id string) []*socket {
	t.Helper()
	subs := make([]*socket, n)
	for i := range subs {
		subs[i] = dialSocket(t, url)
		subs[i].send(`{"type":"state:sub","actor":"room","actorId":"` + id + `"}`)
	}
	for _, s := range subs {
		s.until("state:snapshot")
	}
	return subs
}

func idsOf(subs []*socket) []string {
	ids := make([]string, len(subs))
	for i, s := range subs {
		ids[i] = s.id
	}
	return ids
}

// outboundLog reads what OUTBOUND holds.
type outboundLog struct {
	t *testing.T
	s jetstream.Stream
}

func newOutboundLog(t *testing.T, url string) *outboundLog {
	t.Helper()
	js, err := jetstream.New(connect(t, url))
	require.NoError(t, err)
	s, err := js.Stream(t.Context(), natscluster.OutboundStream)
	require.NoError(t, err)
	return &outboundLog{t: t, s: s}
}

// last is the sequence of the stream's last message.
func (l *outboundLog) last() uint64 {
	info, err := l.s.Info(l.t.Context())
	require.NoError(l.t, err)
	return info.State.LastSeq
}

// since returns the messages stored after sequence seq, in order.
func (l *outboundLog) since(seq uint64) []*jetstream.RawStreamMsg {
	var msgs []*jetstream.RawStreamMsg
	for last := l.last(); seq < last; {
		seq++
		m, err := l.s.GetMsg(l.t.Context(), seq)
		require.NoError(l.t, err)
		msgs = append(msgs, m)
	}
	return msgs
}

func gatewayEnvelope(t *testing.T, m *jetstream.RawStreamMsg) (ids []string, typ string) {
	t.Helper()
	envs := gatewayEnvelopes(t, m)
	require.Len(t, envs, 1)
	return envs[0].ids, envs[0].typ
}

// gatewayEnvelopes decodes a gateway message: one envelope, or a batch
// of them (a JSON array).
func gatewayEnvelopes(t *testing.T, m *jetstream.RawStreamMsg) (out []struct {
	ids []string
	typ string
}) {
	t.Helper()
	raw := []json.RawMessage{m.Data}
	if m.Data[0] == '[' {
		require.NoError(t, json.Unmarshal(m.Data, &raw))
	}
	for _, r := range raw {
		var env natscluster.GatewayOutboundEnvelope
		require.NoError(t, json.Unmarshal(r, &env))
		var head struct{ Type string }
		require.NoError(t, json.Unmarshal(env.Message, &head))
		out = append(out, struct {
			ids []string
			typ string
		}{env.SessionIDs, head.Type})
	}
	return out
}

// A commit's patch for 200 subscribers on one gateway is one JetStream
// message listing them all, and each of them gets it.
func TestFanOut_OneCommitIsOneMessageForAllSubscribersOfAGateway(t *testing.T) {
	c := startCluster(t, member())
	log := newOutboundLog(t, c.url)
	subs := subscribers(t, c.wsURL, 200, "fan")
	caller := wstest.DialWelcome(t, c.wsURL)
	warmUp(t, caller, "fan")
	before := log.last() // everything before the caller's result is stored

	caller.MustCall("room", "fan", "say", map[string]any{"text": "hi"})
	for _, s := range subs {
		s.until("state:patch", `"hi"`)
	}

	msgs := log.since(before)
	require.Len(t, msgs, 1, "one message: a patch for all and the result")
	subject := natscluster.GatewayOutboundSubject(scope, c.gateway.ID())
	assert.Equal(t, subject, msgs[0].Subject)
	envs := gatewayEnvelopes(t, msgs[0])
	require.Len(t, envs, 2)
	assert.Equal(t, "state:patch", envs[0].typ)
	assert.ElementsMatch(t, idsOf(subs), envs[0].ids)
	assert.Equal(t, "rpc:result", envs[1].typ)
	assert.Equal(t, []string{caller.ClientID}, envs[1].ids)
}

// Subscribers on two gateways: one message per gateway, on each
// gateway's subject.
func TestFanOut_OneMessagePerGateway(t *testing.T) {
	c := startCluster(t, member())
	b, urlB := startGateway(t, c.url, member())
	log := newOutboundLog(t, c.url)
	onA, onB := subscribers(t, c.wsURL, 3, "two"), subscribers(t, urlB, 3, "two")
	caller := wstest.DialWelcome(t, c.wsURL)
	warmUp(t, caller, "two")
	before := log.last()

	caller.MustCall("room", "two", "say", map[string]any{"text": "hi"})
	for _, s := range append(onA, onB...) {
		s.until("state:patch", `"hi"`)
	}

	patches := map[string][]string{} // subject → ids
	for _, m := range log.since(before) {
		for _, env := range gatewayEnvelopes(t, m) {
			if env.typ == "state:patch" {
				require.NotContains(t, patches, m.Subject, "one patch envelope per gateway")
				patches[m.Subject] = env.ids
			}
		}
	}
	assert.Len(t, patches, 2)
	assert.ElementsMatch(t, idsOf(onA), patches[natscluster.GatewayOutboundSubject(scope, c.gateway.ID())])
	assert.ElementsMatch(t, idsOf(onB), patches[natscluster.GatewayOutboundSubject(scope, b.ID())])
}

// A session whose INBOUND messages carry no gateway header (a TypeScript
// gateway) is answered on its own subject with the TypeScript envelope,
// byte for byte; one whose messages carry it, on that gateway's subject.
func TestRuntime_AnswersOnTheSubjectTheGatewayHeaderAsksFor(t *testing.T) {
	c := startCluster(t, member())
	nc := connect(t, c.url)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	answers := make(chan *nats.Msg, 10)
	sub, err := nc.ChanSubscribe("outbound.ws-1.prj-1.*", answers)
	require.NoError(t, err)
	defer sub.Unsubscribe()
	require.NoError(t, nc.Flush())
	publish := func(session, gateway string) {
		m := nats.NewMsg(natscluster.InboundSubject(scope, "room", "hdr"))
		m.Data = envelope(t, scope, session, `{"type":"rpc","id":"h1","actor":"room","actorId":"hdr","method":"nap","input":{"ms":0}}`)
		if gateway != "" {
			m.Header.Set(natscluster.HeaderGateway, gateway)
		}
		_, err := js.PublishMsg(t.Context(), m)
		require.NoError(t, err)
	}
	scopeJSON := `{"scope":{"workspaceId":"ws-1","projectId":"prj-1"},`

	publish("ts-1", "")
	for _, want := range []string{
		scopeJSON + `"sessionId":"ts-1","message":{"type":"welcome","clientId":"ts-1"}}`,
		scopeJSON + `"sessionId":"ts-1","message":{"type":"rpc:result","id":"h1"}}`,
	} {
		m := <-answers
		assert.Equal(t, "outbound.ws-1.prj-1.ts-1", m.Subject)
		assert.Equal(t, want, string(m.Data))
	}

	publish("go-1", "gw1")
	for _, want := range []string{
		scopeJSON + `"sessionIds":["go-1"],"message":{"type":"welcome","clientId":"go-1"}}`,
		scopeJSON + `"sessionIds":["go-1"],"message":{"type":"rpc:result","id":"h1"}}`,
	} {
		m := <-answers
		assert.Equal(t, "outbound.ws-1.prj-1.gw-gw1", m.Subject)
		assert.Equal(t, want, string(m.Data))
	}
}

// With batching, the caller still gets its call's patch and event before
// its result, as in one process.
func TestFanOut_KeepsTheCallersOrder(t *testing.T) {
	c := startCluster(t, member())
	subscribers(t, c.wsURL, 5, "order")
	caller := dialSocket(t, c.wsURL)
	caller.send(`{"type":"event:sub","actor":"room","actorId":"order"}`)
	caller.send(`{"type":"state:sub","actor":"room","actorId":"order"}`)
	caller.send(`{"type":"rpc","id":"o0","actor":"room","actorId":"order","method":"whoAmI"}`)
	caller.until("rpc:result") // the snapshot and the caller's onConnect are out of the way

	caller.send(`{"type":"rpc","id":"o1","actor":"room","actorId":"order","method":"say","input":{"text":"x"}}`)
	var types []string
	for _, f := range caller.until("rpc:result") {
		types = append(types, f["type"].(string))
	}
	assert.Equal(t, []string{"state:patch", "event", "rpc:result"}, types)
}

// An rpc of a Go gateway's session is acked only once its result was
// handed to the connection for publishing: the runtime's connection sends
// the result before the ack.
func TestRuntime_AcksACallAfterPublishingItsBatchedResult(t *testing.T) {
	c := startCluster(t, member())
	nc := connect(t, c.url)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	seen := make(chan *nats.Msg, 10) // one channel: the order the runtime sent them in
	for _, subject := range []string{natscluster.GatewayOutboundSubject(scope, "gw-ack"), "$JS.ACK.>"} {
		sub, err := nc.ChanSubscribe(subject, seen)
		require.NoError(t, err)
		defer sub.Unsubscribe()
	}
	require.NoError(t, nc.Flush())

	m := nats.NewMsg(natscluster.InboundSubject(scope, "room", "ack"))
	m.Header.Set(natscluster.HeaderGateway, "gw-ack")
	m.Data = envelope(t, scope, "a1", `{"type":"rpc","id":"k1","actor":"room","actorId":"ack","method":"say","input":{"text":"x"}}`)
	_, err = js.PublishMsg(t.Context(), m)
	require.NoError(t, err)

	var order []string
	for len(order) < 3 {
		m := <-seen
		switch {
		case strings.HasPrefix(m.Subject, "$JS.ACK."):
			order = append(order, "ack")
		case strings.Contains(string(m.Data), `"rpc:result"`):
			order = append(order, "result")
		default:
			order = append(order, "welcome")
		}
	}
	assert.Equal(t, []string{"welcome", "result", "ack"}, order)
}

// When the gateway's consumer fails (here OUTBOUND is deleted, as a NATS
// restart loses it), every session is closed with 1012; once the stream is
// back, new sessions are served.
func TestGateway_ClosesEverySessionWhenItsRelayFails(t *testing.T) {
	c := startCluster(t, member())
	subs := []*socket{dialSocket(t, c.wsURL), dialSocket(t, c.wsURL)}
	js, err := jetstream.New(connect(t, c.url))
	require.NoError(t, err)
	require.NoError(t, js.DeleteStream(t.Context(), natscluster.OutboundStream))

	for _, s := range subs {
		_, _, err := s.read()
		assert.Equal(t, websocket.StatusServiceRestart, websocket.CloseStatus(err))
	}
	var again *socket
	poll.Until(t, func() bool { // refused until the relay is back
		again, err = trySocket(t, c.wsURL)
		return err == nil
	}, "accepted a session again")
	again.send(`{"type":"rpc","id":"b1","actor":"room","actorId":"back","method":"whoAmI"}`)
	res := again.until("rpc:result")
	assert.Equal(t, "b1", res[len(res)-1]["id"])
}

// A gateway marks its INBOUND messages with its id, unless told that its
// runtimes may be TypeScript ones (PerSessionOutbound): then it reads each
// session's own subject, where the runtime answers.
func TestGateway_MarksInboundMessagesUnlessPerSessionOutbound(t *testing.T) {
	c := startCluster(t, member())
	g, err := natscluster.NewGateway(t.Context(), connect(t, c.url), natscluster.GatewayOptions{Authorizer: member(), PerSessionOutbound: true})
	require.NoError(t, err)
	perSession := serveGateway(t, g)
	nc := connect(t, c.url)
	inbound := make(chan *nats.Msg, 10)
	sub, err := nc.ChanSubscribe("inbound.ws-1.prj-1.>", inbound)
	require.NoError(t, err)
	defer sub.Unsubscribe()
	require.NoError(t, nc.Flush())

	w := wstest.DialWelcome(t, c.wsURL)
	w.MustCall("room", "mark", "whoAmI", nil)
	assert.Equal(t, c.gateway.ID(), (<-inbound).Header.Get(natscluster.HeaderGateway))

	w = wstest.DialWelcome(t, perSession)
	assert.Equal(t, w.ClientID, w.MustCall("room", "mark", "whoAmI", nil).(map[string]any)["clientId"])
	m := <-inbound
	assert.Empty(t, m.Header.Get(natscluster.HeaderGateway))
	log := newOutboundLog(t, c.url)
	info, err := log.s.Info(t.Context(), jetstream.WithSubjectFilter(natscluster.OutboundSubject(scope, w.ClientID)))
	require.NoError(t, err)
	assert.Equal(t, uint64(2), info.State.Subjects[natscluster.OutboundSubject(scope, w.ClientID)], "welcome and result on the session's subject")
}

// The gateway writes a message on its subject to each listed session it
// holds in the subject's namespace: unknown ids are skipped, and a session
// of another namespace is not written to.
func TestGateway_DeliversToTheListedSessionsOfTheSubjectsNamespace(t *testing.T) {
	c := startCluster(t, member())
	w := wstest.DialWelcome(t, c.wsURL)
	js, err := jetstream.New(connect(t, c.url))
	require.NoError(t, err)
	send := func(ns natscluster.Namespace, message string, ids ...string) {
		env, err := json.Marshal(natscluster.GatewayOutboundEnvelope{Namespace: ns, SessionIDs: ids, Message: json.RawMessage(message)})
		require.NoError(t, err)
		_, err = js.Publish(t.Context(), natscluster.GatewayOutboundSubject(ns, c.gateway.ID()), env)
		require.NoError(t, err)
	}
	other := natscluster.Namespace{WorkspaceID: "ws-2", ProjectID: "prj-1"}

	send(scope, `{"n":1}`, "nobody", w.ClientID)
	send(other, `{"n":2}`, w.ClientID)
	send(scope, `{"n":3}`, w.ClientID, "nobody")
	assert.JSONEq(t, `{"n":1}`, string(w.NextRaw()))
	assert.JSONEq(t, `{"n":3}`, string(w.NextRaw()))
}

// A batch (a JSON array of envelopes, as a runtime packs them under load)
// reaches each listed session in order; what is malformed after a good
// envelope does not undo it.
func TestGateway_DeliversEveryEnvelopeOfABatchInOrder(t *testing.T) {
	c := startCluster(t, member())
	a, b := wstest.DialWelcome(t, c.wsURL), wstest.DialWelcome(t, c.wsURL)
	js, err := jetstream.New(connect(t, c.url))
	require.NoError(t, err)
	env := func(id, text string) string {
		return `{"scope":{"workspaceId":"ws-1","projectId":"prj-1"},"sessionIds":["` + id + `"],"message":{"type":"event","event":"note","payload":"` + text + `"}}`
	}
	subject := natscluster.GatewayOutboundSubject(scope, c.gateway.ID())
	_, err = js.Publish(t.Context(), subject, []byte("[ "+env(a.ClientID, "a1")+" , "+env(b.ClientID, "b1")+","+env(a.ClientID, "a2")+" ]"))
	require.NoError(t, err)
	_, err = js.Publish(t.Context(), subject, []byte("["+env(b.ClientID, "b2")+",{broken"))
	require.NoError(t, err)
	_, err = js.Publish(t.Context(), subject, []byte(env(a.ClientID, "a3")))
	require.NoError(t, err)

	payloads := func(w *wstest.Client, n int) (got []string) {
		for len(got) < n {
			if f := w.Next(); f["type"] == "event" {
				got = append(got, f["payload"].(string))
			}
		}
		return got
	}
	assert.Equal(t, []string{"a1", "a2", "a3"}, payloads(a, 3))
	assert.Equal(t, []string{"b1", "b2"}, payloads(b, 2))
}
