package conformance

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/testsupport/patchtest"
	"github.com/zocket-go/zocket/internal/testsupport/wstest"
	"github.com/zocket-go/zocket/zockettest/conformance/fixtures"
)

// Middleware, in-process (stub connection)

func localNext(t *testing.T, c *zocket.LocalConn) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	f, err := c.Next(ctx)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(f, &m))
	return m
}

func checkTransportMetadata(t *testing.T, target Target) {
	app, _ := fixtures.NewApp()
	h := zocket.NewHandler(app)
	c := zocket.NewLocalConn("session-1", zocket.Identity{UserID: "user-123",
		Claims:    map[string]any{"role": "admin", "sub": "user-123"},
		Namespace: map[string]string{"workspaceId": "ws-1", "projectId": "prj-1"}})
	h.Attach(c)
	h.OnMessage(c, []byte(`{"type":"rpc","id":"rpc-1","actor":"mwsession","actorId":"inst-1","method":"getSession"}`))
	assert.Equal(t, map[string]any{"type": "rpc:result", "id": "rpc-1", "result": map[string]any{
		"clientId": "session-1", "userId": "user-123", "role": "admin", "workspaceId": "ws-1", "projectId": "prj-1"}},
		localNext(t, c))
	time.Sleep(wstest.Quiet)
	assert.Len(t, c.Frames(), 1, "exactly one frame")
}

// Events

func checkBroadcastDeliveryAndShape(t *testing.T, target Target) {
	srv := target.start(t)
	a, b := srv.dial(), srv.dial()
	b.Sub("event:sub", "chat", "room-events")
	b.Nothing()
	r := a.Call("chat", "room-events", "sendMessage", map[string]any{"text": "first"})
	ev := b.Next()
	assert.Equal(t, "event", ev.Type())
	assert.Equal(t, "chat", ev["actor"])
	assert.Equal(t, "room-events", ev["actorId"])
	assert.Equal(t, "message", ev["event"])
	assert.Equal(t, r["result"], ev["payload"])
	a.Nothing()
	b.Nothing() // event:sub gives no snapshot
	// state:sub alone never delivers events.
	a.Snapshot("chat", "room-events")
	b.Call("chat", "room-events", "sendMessage", map[string]any{"text": "second"})
	assert.Equal(t, "state:patch", a.Next().Type())
	a.Nothing()
}

func checkUnsubscribeStopsDelivery(t *testing.T, target Target) {
	srv := target.start(t)
	a, b := srv.dial(), srv.dial()
	b.Sub("event:sub", "chat", "u")
	roundTrip(b)
	a.MustCall("chat", "u", "sendMessage", map[string]any{"text": "1"})
	assert.Equal(t, "event", b.Next().Type())
	b.Sub("event:unsub", "chat", "u")
	roundTrip(b)
	a.MustCall("chat", "u", "sendMessage", map[string]any{"text": "2"})
	b.Nothing()
}

func checkPassiveListener(t *testing.T, target Target) {
	srv := target.start(t)
	a, b := srv.dial(), srv.dial()
	b.Sub("event:sub", "chat", "passive")
	roundTrip(b)
	a.MustCall("chat", "passive", "sendMessage", map[string]any{"text": "hi"})
	assert.Equal(t, "hi", field(b.Next()["payload"], "text"))
}

func checkToTargeting(t *testing.T, target Target) {
	srv := target.start(t)
	a, b := srv.dial(), srv.dial()
	a.Sub("event:sub", "room", "r")
	b.Sub("event:sub", "room", "r")
	roundTrip(a)
	roundTrip(b)
	a.MustCall("room", "r", "whisper", map[string]any{"target": b.ClientID, "text": "psst"})
	ev := b.Next()
	assert.Equal(t, "whisper", ev["event"])
	assert.Equal(t, map[string]any{"text": "psst"}, ev["payload"])
	a.Nothing()
	r := a.Call("room", "r", "whisper", map[string]any{"target": "not-a-client", "text": "x"})
	assert.NotContains(t, r, "error")
	a.Nothing()
	b.Nothing()
}

func checkExceptTargeting(t *testing.T, target Target) {
	srv := target.start(t)
	a, b := srv.dial(), srv.dial()
	a.Sub("event:sub", "room", "r")
	b.Sub("event:sub", "room", "r")
	roundTrip(a)
	roundTrip(b)
	a.MustCall("room", "r", "shout", map[string]any{"text": "oyez"})
	assert.Equal(t, "shout", b.Next()["event"])
	a.Nothing()
}

func checkNoTerminalNoEvent(t *testing.T, target Target) {
	a := target.start(t).dial()
	a.Sub("event:sub", "room", "g")
	r := a.Call("room", "g", "ghost", map[string]any{"text": "boo"})
	assert.NotContains(t, r, "error")
	a.Nothing()
}

func checkInvalidOrUndeclaredEventsDropped(t *testing.T, target Target) {
	a := target.start(t).dial()
	a.Sub("event:sub", "ev", "e")
	for _, m := range []string{"bad", "undeclared"} {
		r := a.Call("ev", "e", m, nil)
		assert.NotContains(t, r, "error")
	}
	a.Nothing()
}

func checkPayloadIsSchemaOutput(t *testing.T, target Target) {
	a := target.start(t).dial()
	a.Sub("event:sub", "ev", "e")
	id := a.RPC("ev", "e", "defaults", nil)
	ev := a.Next()
	assert.Equal(t, map[string]any{"n": 1.0, "tag": "t"}, ev["payload"])
	assert.Equal(t, id, a.Next()["id"])
}

func checkTerminalSemantics(t *testing.T, target Target) {
	a := target.start(t).dial()
	a.Sub("event:sub", "ev", "e")
	id := a.RPC("ev", "e", "twice", nil)
	fs := a.Until(func(f wstest.Frame) bool { return f["id"] == id })
	assert.Len(t, fs, 2, "twice delivers exactly one event: %v", fs)
	a.RPC("ev", "e", "order", nil)
	fs = a.Until(func(f wstest.Frame) bool { return f.Type() == "rpc:result" })
	require.Len(t, fs, 3)
	assert.Equal(t, 2.0, field(fs[0]["payload"], "n"))
	assert.Equal(t, 1.0, field(fs[1]["payload"], "n"))
}

func checkEventsDiscardedOnFailure(t *testing.T, target Target) {
	a := target.start(t).dial()
	a.Sub("event:sub", "ev", "e")
	a.Snapshot("ev", "e")
	r := a.Call("ev", "e", "bumpThenThrow", nil)
	assert.Equal(t, "no", r["error"])
	a.Nothing()
}

// State synchronization

func checkSnapshotOnSubscribe(t *testing.T, target Target) {
	a := target.start(t).dial()
	a.SendRaw(`{"type":"state:sub","actor":"chat","actorId":"room-state"}`)
	assert.Equal(t, `{"type":"state:snapshot","actor":"chat","actorId":"room-state","state":{"members":[],"messages":[]}}`,
		string(a.NextRaw()))
}

func checkExactlyOnePatchPerMutatingCall(t *testing.T, target Target) {
	srv := target.start(t)
	a, b := srv.dial(), srv.dial()
	s := &store{t: t}
	a.Sub("state:sub", "chat", "one")
	s.apply(a.Next())
	for _, text := range []string{"x", "y"} {
		id := a.RPC("chat", "one", "sendMessage", map[string]any{"text": text})
		p := a.Next()
		assert.Equal(t, "state:patch", p.Type())
		s.apply(p)
		assert.Equal(t, id, a.Next()["id"])
	}
	assert.Equal(t, 3, s.calls)
	a.MustCall("chat", "one", "getMessages", nil)
	a.Snapshot("p", "one")
	a.Call("p", "one", "setN", map[string]any{"v": 1})
	a.Nothing()
	// No subscriber, no patch for anyone.
	b.MustCall("chat", "nobody", "sendMessage", map[string]any{"text": "z"})
	b.Nothing()
}

func checkAppendForm(t *testing.T, target Target) {
	a := target.start(t).dial()
	a.Snapshot("chat", "append")
	a.RPC("chat", "append", "sendMessage", map[string]any{"text": "first"})
	got := ops(t, a.Next())
	require.Len(t, got, 1)
	assert.Equal(t, "add", got[0].Op)
	assert.Equal(t, "/messages/0", got[0].Path)
}

func checkPatchCorrectnessMatrix(t *testing.T, target Target) {
	a := target.start(t).dial()
	steps := []struct {
		method string
		input  any
	}{
		{"splice", map[string]any{"i": 0}}, {"splice", map[string]any{"i": 1}}, {"pop", nil},
		{"push", map[string]any{"items": []string{"d", "e"}}}, {"unshift", map[string]any{"v": "z"}},
		{"clear", nil}, {"push", map[string]any{"items": []string{"a", "b", "c"}}}, {"del", map[string]any{"key": "x"}},
		{"setN", map[string]any{"v": 7}}, {"replaceArr", map[string]any{"items": []string{"q"}}}, {"pushThenModify", nil},
	}
	for i, st := range steps {
		id := "m" + string(rune('a'+i))
		a.Snapshot("p", id) // subscribed while the earlier steps run
		for _, prior := range steps[:i] {
			a.Call("p", id, prior.method, prior.input)
		}
		before := a.Snapshot("p", id)
		reqID := a.RPC("p", id, st.method, st.input)
		fs := a.Until(func(f wstest.Frame) bool { return f["id"] == reqID })
		require.NotContains(t, fs[len(fs)-1], "error", st.method)
		after := a.Snapshot("p", id)
		var patchOps = fs[:len(fs)-1]
		for _, mode := range []patchtest.Mode{patchtest.TS, patchtest.RFC} {
			doc := before
			for _, p := range patchOps {
				for _, op := range ops(t, p) {
					assert.NotEqual(t, "", op.Path)
					assert.NotEqual(t, "/", op.Path)
					if op.Op != "remove" {
						assert.NotNil(t, op.Value)
					}
				}
				var err error
				doc, err = patchtest.Apply(doc, ops(t, p), mode)
				require.NoError(t, err, st.method)
			}
			assert.Equal(t, after, doc, "%s mode %d", st.method, mode)
		}
		a.Sub("state:unsub", "p", id)
	}
}

func checkPatchBeforeEventBeforeResult(t *testing.T, target Target) {
	srv := target.start(t)
	a, b := srv.dial(), srv.dial()
	for _, c := range []*wstest.Client{a, b} {
		c.Sub("event:sub", "chat", "o")
		c.Snapshot("chat", "o")
	}
	id := a.RPC("chat", "o", "sendMessage", map[string]any{"text": "x"})
	assert.Equal(t, "state:patch", a.Next().Type())
	assert.Equal(t, "event", a.Next().Type())
	assert.Equal(t, id, a.Next()["id"])
	assert.Equal(t, "state:patch", b.Next().Type())
	assert.Equal(t, "event", b.Next().Type())
}

func checkResubscribeAndUnsubscribe(t *testing.T, target Target) {
	a := target.start(t).dial()
	a.Snapshot("tracked", "re")
	a.Until(func(f wstest.Frame) bool { return f.Type() == "state:patch" }) // onConnect
	a.Snapshot("tracked", "re")
	a.Sub("state:sub", "p", "re")
	a.Next()
	a.Sub("state:sub", "p", "re")
	assert.Equal(t, "state:snapshot", a.Next().Type())
	a.RPC("p", "re", "setN", map[string]any{"v": 3})
	assert.Equal(t, "state:patch", a.Next().Type())
	assert.Equal(t, "rpc:result", a.Next().Type(), "exactly one patch")
	a.Sub("state:unsub", "p", "re")
	a.RPC("p", "re", "setN", map[string]any{"v": 4})
	assert.Equal(t, "rpc:result", a.Next().Type())
	a.Nothing()
}

func checkKeyEscaping(t *testing.T, target Target) {
	a := target.start(t).dial()
	before := a.Snapshot("p", "esc")
	a.RPC("p", "esc", "setKey", map[string]any{"key": "a/b", "value": 1})
	p1 := ops(t, a.Next())
	a.Next()
	a.RPC("p", "esc", "setKey", map[string]any{"key": "t~", "value": 2})
	p2 := ops(t, a.Next())
	assert.Equal(t, "/o/a~1b", p1[0].Path)
	assert.Equal(t, "/o/t~0", p2[0].Path)
	doc, err := patchtest.Apply(before, append(p1, p2...), patchtest.TS)
	require.NoError(t, err)
	o := field(doc, "o").(map[string]any)
	assert.Equal(t, 1.0, o["a/b"])
	assert.Equal(t, 2.0, o["t~"])
}
