package conformance

import (
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/zockettest/conformance/fixtures"
)

// Lifecycle hooks and clients

func checkOnConnectOnFirstStateSub(t *testing.T, target Target) {
	a := target.start(t).dial()
	s := &store{t: t}
	a.Sub("state:sub", "tracked", "instance-1")
	s.waitState(a, func(v any) bool { return len(field(v, "connected").([]any)) == 1 })
	assert.Equal(t, []any{a.ClientID}, field(s.state, "connected"))
}

func checkOnConnectEventReachesNewSubscriber(t *testing.T, target Target) {
	a := target.start(t).dial()
	a.Sub("event:sub", "greeter", "g")
	ev := a.Next()
	assert.Equal(t, "joined", ev["event"])
	assert.Equal(t, map[string]any{"id": a.ClientID}, ev["payload"])
}

func checkOnConnectRunsBeforeFirstMethod(t *testing.T, target Target) {
	a := target.start(t).dial()
	r := a.MustCall("tracked2", "t", "ping", nil)
	assert.Equal(t, []any{a.ClientID}, field(r, "connected"))
	assert.Equal(t, []any{a.ClientID}, field(r, "clients"))
}

func checkOnConnectAtMostOnce(t *testing.T, target Target) {
	a := target.start(t).dial()
	assert.Equal(t, "Unknown method: doesNotExist", a.Call("tracked", "t2", "doesNotExist", nil)["error"])
	a.Sub("state:sub", "tracked", "t2")
	a.Sub("event:sub", "tracked", "t2")
	for range 3 {
		a.MustCall("tracked", "t2", "ping", nil)
	}
	assert.Equal(t, []any{a.ClientID}, field(a.Snapshot("tracked", "t2"), "connected"))
}

func checkUnknownActorSubscription(t *testing.T, target Target) {
	a := target.start(t).dial()
	a.Sub("state:sub", "nope", "x")
	a.Sub("event:sub", "nope", "x")
	a.Sub("state:unsub", "nope", "x")
	a.Nothing()
}

func checkNoInstanceCreated(t *testing.T, target Target) {
	app, _ := fixtures.NewApp()
	h := zocket.NewHandler(app)
	c := zocket.NewLocalConn("c", zocket.Identity{})
	h.Attach(c)
	h.OnMessage(c, []byte(`{"type":"state:sub","actor":"nope","actorId":"x"}`))
	h.OnMessage(c, []byte(`{"type":"event:unsub","actor":"chat","actorId":"x"}`))
	h.OnMessage(c, []byte(`{"type":"state:unsub","actor":"chat","actorId":"x"}`))
	assert.Equal(t, 0, app.Size(), "neither unknown actors nor unsubs create instances")
}

func checkOnDisconnectOnlyWhereInteracted(t *testing.T, target Target) {
	srv := target.start(t)
	w, j := srv.dial(), srv.dial()
	other := srv.dial()
	s, so := &store{t: t}, &store{t: t}
	w.Sub("state:sub", "tracked", "instance-dc")
	j.Sub("state:sub", "tracked", "instance-dc")
	s.waitState(w, func(v any) bool { return len(field(v, "connected").([]any)) == 2 })
	other.Sub("state:sub", "tracked", "other")
	so.waitState(other, func(v any) bool { return len(field(v, "connected").([]any)) == 1 })
	j.Close()
	s.waitState(w, func(v any) bool { return len(field(v, "connected").([]any)) == 1 })
	assert.Equal(t, []any{w.ClientID}, field(s.state, "connected"))
	other.Nothing()
}

func checkOnDisconnectMutationsBroadcast(t *testing.T, target Target) {
	srv := target.start(t)
	w, p := srv.dial(), srv.dial()
	s := &store{t: t}
	w.Sub("state:sub", "game", "room-dc")
	p.MustCall("game", "room-dc", "join", map[string]any{"name": "Alice"})
	s.waitState(w, func(v any) bool { return len(field(v, "players").([]any)) == 1 })
	p.Close()
	s.waitState(w, func(v any) bool { return len(field(v, "players").([]any)) == 0 })
}

func checkHooksReceiveTransportMetadata(t *testing.T, target Target) {
	app, _ := fixtures.NewApp()
	h := zocket.NewHandler(app)
	c := zocket.NewLocalConn("session-2", zocket.Identity{UserID: "user-456",
		Claims: map[string]any{"role": "member"}, Namespace: map[string]string{"workspaceId": "ws-1", "projectId": "prj-9"}})
	h.Attach(c)
	h.OnMessage(c, []byte(`{"type":"state:sub","actor":"hookmeta","actorId":"inst-2"}`))
	conn := map[string]any{"clientId": "session-2", "userId": "user-456", "projectId": "prj-9", "role": "member"}
	eventually(t, app, "inst-2", map[string]any{"connections": []any{conn}, "disconnected": []any{}})
	h.OnClose(c)
	eventually(t, app, "inst-2", map[string]any{"connections": []any{conn}, "disconnected": []any{"session-2"}})
}

// eventually polls hookmeta's state through a fresh subscriber.
func eventually(t *testing.T, app *zocket.App, id string, want map[string]any) {
	t.Helper()
	h := zocket.NewHandler(app)
	deadline := time.Now().Add(3 * time.Second)
	for {
		probe := zocket.NewLocalConn("probe", zocket.Identity{})
		h.Attach(probe)
		h.OnMessage(probe, []byte(`{"type":"state:sub","actor":"hookmeta","actorId":"`+id+`"}`))
		got := localNext(t, probe)["state"].(map[string]any)
		h.OnClose(probe)
		conns := got["connections"].([]any)
		// The probe itself connects; ignore it.
		var kept []any
		for _, c := range conns {
			if c.(map[string]any)["clientId"] != "probe" {
				kept = append(kept, c)
			}
		}
		got["connections"] = kept
		var dis []any
		for _, d := range got["disconnected"].([]any) {
			if d != "probe" {
				dis = append(dis, d)
			}
		}
		if dis == nil {
			dis = []any{}
		}
		got["disconnected"] = dis
		if assert.ObjectsAreEqual(want, got) {
			return
		}
		if time.Now().After(deadline) {
			assert.Equal(t, want, got)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func checkClientsContents(t *testing.T, target Target) {
	srv := target.start(t)
	a, b := srv.dial(), srv.dial()
	a.MustCall("roster", "shared", "clients", nil)
	ids := b.MustCall("roster", "shared", "clients", nil)
	assert.ElementsMatch(t, []any{a.ClientID, b.ClientID}, ids)
	a.Sub("event:sub", "roster", "shared")
	a.Sub("event:unsub", "roster", "shared")
	roundTrip(a)
	assert.ElementsMatch(t, []any{a.ClientID, b.ClientID}, b.MustCall("roster", "shared", "clients", nil),
		"unsubscribing does not forget a client")
	s := &store{t: t}
	b.Sub("state:sub", "roster", "shared")
	s.apply(b.Next())
	a.Close()
	s.waitState(b, func(v any) bool { return len(field(v, "lastLeftClients").([]any)) > 0 })
	assert.Equal(t, []any{b.ClientID}, field(s.state, "lastLeftClients"))
}

func checkThrowingHookDoesNotWedge(t *testing.T, target Target) {
	a := target.start(t).dial()
	for _, actor := range []string{"badhook", "panichook"} {
		for range 3 {
			r := a.Call(actor, "h", "ping", nil)
			assert.Equal(t, "pong", r["result"], actor)
		}
		assert.Equal(t, map[string]any{"count": 0.0}, a.Snapshot(actor, "h"), "failed hook left state unchanged")
	}
}

func checkOnActivateRunsOnceFirst(t *testing.T, target Target) {
	srv := target.start(t)
	a, b := srv.dial(), srv.dial()
	want := map[string]any{"createdAt": 1.0, "log": []any{"act"}}
	assert.Equal(t, want, a.Snapshot("activated", "x"))
	a.MustCall("activated", "x", "ping", nil)
	assert.Equal(t, want, b.Snapshot("activated", "x"))
}

func checkInFlightCallSurvivesCallerClose(t *testing.T, target Target) {
	srv := target.start(t)
	w, a := srv.dial(), srv.dial()
	s := &store{t: t}
	w.Sub("state:sub", "counter", "c")
	s.apply(w.Next())
	a.RPC("counter", "c", "incrementSlow", map[string]any{"label": "gone", "waitMs": 200})
	a.Close()
	s.waitState(w, func(v any) bool { return field(v, "count") == 1.0 })
}

// Bad input: nothing breaks for anyone.

func checkBadInputKeepsConnectionAndActorWorking(t *testing.T, target Target) {
	srv := target.start(t)
	a, b := srv.dial(), srv.dial()
	b.Snapshot("chat", "bad")
	deep := ""
	for range 10000 {
		deep += "["
	}
	for range 10000 {
		deep += "]"
	}
	for _, f := range []string{
		`{"type":"rpc","id":"d","actor":"chat","actorId":"bad","method":"sendMessage","input":` + deep + `}`,
		`{"type":"rpc","id":"w","actor":"chat","actorId":"bad","method":"sendMessage","input":{"text":["x"]}}`,
		`{"type":"rpc","id":"m","actor":"chat","actorId":"bad","method":"sendMessage","input":{"txt":"x"}}`,
	} {
		a.SendRaw(f)
	}
	for _, id := range []string{"w", "m"} {
		r := a.Result(id)
		assert.Contains(t, r["error"], "Validation failed for sendMessage: ", id)
	}
	// Non-string addressing gets an error result when there is an id.
	a.SendRaw(`{"type":"rpc","id":"n","actor":5,"actorId":"x","method":"m"}`)
	assert.Contains(t, a.Next()["error"], "Invalid rpc")
	a.MustCall("chat", "bad", "sendMessage", map[string]any{"text": "still fine"})
	p := b.Next()
	assert.Equal(t, "state:patch", p.Type())
	b.Nothing()
}

func checkOversizeFrameClosesWith1009(t *testing.T, target Target) {
	target.onlyWebSocket(t)
	srv := target.start(t)
	a := srv.dial()
	big := make([]byte, 2<<20)
	for i := range big {
		big[i] = 'x'
	}
	_ = a.Conn().Write(t.Context(), websocket.MessageText, append(append([]byte(`{"type":"rpc","id":"x","input":"`), big...), '"', '}'))
	<-a.Closed()
	assert.Equal(t, websocket.StatusMessageTooBig, websocket.CloseStatus(a.Err()))
	// Others are unaffected.
	b := srv.dial()
	assert.Equal(t, b.ClientID, b.MustCall("echo", "x", "whoAmI", nil))
}
