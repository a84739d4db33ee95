package conformance

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/testsupport/wstest"
)

// Connection and framing

func checkWelcomeFirstUniqueIDs(t *testing.T, target Target) {
	srv := target.start(t)
	a, b := srv.connect(), srv.connect()
	fa, fb := a.Next(), b.Next()
	assert.Equal(t, "welcome", fa.Type())
	assert.Equal(t, "welcome", fb.Type())
	assert.NotEmpty(t, fa["clientId"])
	assert.NotEqual(t, fa["clientId"], fb["clientId"])
	assert.Len(t, fa, 2)
}

func checkClientIDStableAndVisible(t *testing.T, target Target) {
	a := target.start(t).dial()
	assert.Equal(t, a.ClientID, a.MustCall("echo", "inst-1", "whoAmI", nil))
	assert.Equal(t, a.ClientID, a.MustCall("echo", "inst-1", "whoAmI", nil))
}

func checkMalformedFramesIgnored(t *testing.T, target Target) {
	a := target.start(t).dial()
	for _, f := range []string{`not json`, `42`, `null`, `[]`, `{}`, `{"type":5}`,
		`{"type":"bogus","actor":"chat","actorId":"x"}`, `"str"`, `{"type":"rpc"`} {
		a.SendRaw(f)
	}
	a.Nothing()
	assert.Equal(t, a.ClientID, a.MustCall("echo", "x", "whoAmI", nil))
}

func checkBinaryFrames(t *testing.T, target Target) {
	target.onlyWebSocket(t)
	a := target.start(t).dial()
	require.NoError(t, a.Conn().Write(t.Context(), websocket.MessageBinary,
		[]byte(`{"type":"rpc","id":"b1","actor":"echo","actorId":"x","method":"whoAmI"}`)))
	r := a.Next()
	assert.Equal(t, wstest.Frame{"type": "rpc:result", "id": "b1", "result": a.ClientID}, r)
}

// RPC

func checkSuccessShape(t *testing.T, target Target) {
	a := target.start(t).dial()
	before := time.Now().UnixMilli()
	a.SendRaw(`{"type":"rpc","id":"r1","actor":"chat","actorId":"room-1","method":"sendMessage","input":{"text":"hello"}}`)
	r := a.Next()
	after := time.Now().UnixMilli()
	assert.Equal(t, "rpc:result", r.Type())
	assert.Equal(t, "r1", r["id"])
	assert.NotContains(t, r, "error")
	res := r["result"].(map[string]any)
	assert.Equal(t, "hello", res["text"])
	sentAt := int64(res["sentAt"].(float64))
	assert.True(t, sentAt >= before && sentAt <= after)
}

func checkVoidVersusNull(t *testing.T, target Target) {
	a := target.start(t).dial()
	a.SendRaw(`{"type":"rpc","id":"r2","actor":"fail","actorId":"f","method":"voidM"}`)
	assert.Equal(t, `{"type":"rpc:result","id":"r2"}`, string(a.NextRaw()))
	a.SendRaw(`{"type":"rpc","id":"r3","actor":"fail","actorId":"f","method":"nullM"}`)
	assert.Equal(t, `{"type":"rpc:result","id":"r3","result":null}`, string(a.NextRaw()))
}

func checkIDEchoedVerbatim(t *testing.T, target Target) {
	a := target.start(t).dial()
	for _, id := range []string{`"rpc-x/✓ 1"`, `7`, `{"a":[1,2]}`, `null`, `1.5e3`} {
		a.SendRaw(`{"type":"rpc","id":` + id + `,"actor":"fail","actorId":"f","method":"voidM"}`)
		assert.Equal(t, `{"type":"rpc:result","id":`+id+`}`, string(a.NextRaw()))
	}
	a.SendRaw(`{"type":"rpc","actor":"fail","actorId":"f","method":"voidM"}`)
	assert.Equal(t, `{"type":"rpc:result"}`, string(a.NextRaw()), "no id: no id member")
}

func checkUnknownActor(t *testing.T, target Target) {
	a := target.start(t).dial()
	a.SendRaw(`{"type":"rpc","id":"u","actor":"nope","actorId":"x","method":"m"}`)
	assert.Equal(t, wstest.Frame{"type": "rpc:result", "id": "u", "error": "Unknown actor: nope"}, a.Next())
	a.Nothing()
	for _, name := range []string{"toString", "constructor", "__proto__"} {
		r := a.Call(name, "x", "m", nil)
		assert.Equal(t, "Unknown actor: "+name, r["error"])
	}
}

func checkUnknownMethod(t *testing.T, target Target) {
	a := target.start(t).dial()
	assert.Equal(t, "Unknown method: doesNotExist", a.Call("chat", "r", "doesNotExist", nil)["error"])
	assert.Equal(t, "Unknown method: toString", a.Call("chat", "r", "toString", nil)["error"])
}

func checkValidationFailure(t *testing.T, target Target) {
	a := target.start(t).dial()
	for _, input := range []any{map[string]any{}, nil, map[string]any{"text": 5}} {
		r := a.Call("chat", "v", "sendMessage", input)
		msg, _ := r["error"].(string)
		require.True(t, strings.HasPrefix(msg, "Validation failed for sendMessage: "), msg)
		var issues []map[string]any
		require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(msg, "Validation failed for sendMessage: ")), &issues))
		require.NotEmpty(t, issues)
		for _, is := range issues {
			assert.IsType(t, "", is["message"])
			assert.IsType(t, []any{}, is["path"])
		}
	}
	assert.Equal(t, map[string]any{"members": []any{}, "messages": []any{}}, a.Snapshot("chat", "v"))
}

func checkInputDefaults(t *testing.T, target Target) {
	a := target.start(t).dial()
	assert.Equal(t, map[string]any{"n": 5.0}, a.MustCall("fail", "f", "withDefault", map[string]any{}))
	assert.Equal(t, map[string]any{"n": 2.0}, a.MustCall("fail", "f", "withDefault", map[string]any{"n": 2}))
}

func checkSchemaLessMethodIgnoresInput(t *testing.T, target Target) {
	a := target.start(t).dial()
	a.SendRaw(`{"type":"rpc","id":"n","actor":"fail","actorId":"f","method":"noSchema","input":{"a":1}}`)
	assert.Equal(t, `{"type":"rpc:result","id":"n"}`, string(a.NextRaw()))
}

func checkHandlerFailureIsAtomic(t *testing.T, target Target) {
	srv := target.start(t)
	a, b := srv.dial(), srv.dial()
	assert.Equal(t, map[string]any{"count": 0.0}, b.Snapshot("fail", "f1"))
	assert.Equal(t, "boom", a.Call("fail", "f1", "throwErr", nil)["error"])
	b.Nothing()
	assert.Equal(t, map[string]any{"count": 0.0}, a.Snapshot("fail", "f1"))
	assert.Equal(t, "Unknown error", a.Call("fail", "f1", "throwString", nil)["error"])
	assert.Equal(t, "Unknown error", a.Call("fail", "f1", "throwEmpty", nil)["error"])
}

func checkSharedStatePerInstance(t *testing.T, target Target) {
	a := target.start(t).dial()
	assert.Equal(t, 1.0, a.MustCall("chat", "m", "addMember", map[string]any{"name": "alice"}))
	assert.Equal(t, 2.0, a.MustCall("chat", "m", "addMember", map[string]any{"name": "bob"}))
	a.MustCall("chat", "m", "sendMessage", map[string]any{"text": "one"})
	a.MustCall("chat", "m", "sendMessage", map[string]any{"text": "two"})
	msgs := a.MustCall("chat", "m", "getMessages", nil).([]any)
	require.Len(t, msgs, 2)
	assert.Equal(t, "one", field(msgs[0], "text"))
	assert.Equal(t, "two", field(msgs[1], "text"))
	assert.Equal(t, map[string]any{"members": []any{}, "messages": []any{}}, a.Snapshot("chat", "other"))
}

func checkPerInstanceSerialization(t *testing.T, target Target) {
	a := target.start(t).dial()
	id1 := a.RPC("counter", "s", "incrementSlow", map[string]any{"label": "first", "waitMs": 30})
	id2 := a.RPC("counter", "s", "incrementSlow", map[string]any{"label": "second", "waitMs": 0})
	r1, r2 := a.Next(), a.Next()
	assert.Equal(t, id1, r1["id"])
	assert.Equal(t, 1.0, r1["result"])
	assert.Equal(t, id2, r2["id"])
	assert.Equal(t, 2.0, r2["result"])
	st := a.MustCall("counter", "s", "getState", nil)
	assert.Equal(t, []any{"start:first", "end:first", "start:second", "end:second"}, field(st, "order"))
}

func checkReadLoopNotBlocked(t *testing.T, target Target) {
	srv := target.start(t)
	a, b := srv.dial(), srv.dial()
	slow := a.RPC("counter", "x", "incrementSlow", map[string]any{"label": "slow", "waitMs": 300})
	time.Sleep(20 * time.Millisecond)
	start := time.Now()
	b.Sub("state:sub", "counter", "x")
	snap := b.Next()
	assert.Equal(t, "state:snapshot", snap.Type())
	assert.Equal(t, 0.0, field(snap["state"], "count"))
	assert.Less(t, time.Since(start), 250*time.Millisecond, "snapshot waited for the running method")
	// A call to another instance on the same connection is not held up.
	other := a.RPC("counter", "y", "getState", nil)
	r := a.Next()
	assert.Equal(t, other, r["id"], "call to another instance answered first")
	assert.Equal(t, slow, a.Next()["id"])
	p := b.Next()
	assert.Equal(t, "state:patch", p.Type())
	s := &store{t: t, state: snap["state"]}
	s.apply(p)
	assert.Equal(t, 1.0, field(s.state, "count"))
}

// Middleware

func checkContextReachesHandler(t *testing.T, target Target) {
	a := target.start(t).dial()
	assert.Equal(t, "user-"+a.ClientID, a.MustCall("mwctx", "x", "whoami", nil))
}

func checkChainAccumulates(t *testing.T, target Target) {
	a := target.start(t).dial()
	assert.Equal(t, map[string]any{"a": 1.0, "b": 11.0}, a.MustCall("mwchain", "x", "getCtx", nil))
}

func checkRejectionBlocksHandler(t *testing.T, target Target) {
	a := target.start(t).dial()
	assert.Equal(t, "Forbidden", a.Call("mwdeny", "x", "increment", nil)["error"])
	assert.Equal(t, map[string]any{"count": 0.0}, a.Snapshot("mwdeny", "x"))
}

func stats(c *wstest.Client) map[string]any {
	return c.MustCall("mwstats", "s", "counts", nil).(map[string]any)
}

func checkRejectionShortCircuits(t *testing.T, target Target) {
	a := target.start(t).dial()
	before := stats(a)["second"]
	assert.Equal(t, "First fails", a.Call("mwfirst", "x", "ping", nil)["error"])
	assert.Equal(t, before, stats(a)["second"])
}

func checkAsyncPlainShared(t *testing.T, target Target) {
	a := target.start(t).dial()
	assert.Equal(t, true, a.MustCall("mwasync", "x", "check", nil))
	assert.Equal(t, 1.0, a.MustCall("plain", "x", "increment", nil))
	assert.Equal(t, 2.0, a.MustCall("plain", "x", "increment", nil))
	assert.Equal(t, "admin", a.MustCall("shared1", "x", "role", nil))
	assert.Equal(t, "admin", a.MustCall("shared2", "x", "role", nil))
}

func checkMiddlewareArguments(t *testing.T, target Target) {
	a := target.start(t).dial()
	assert.Equal(t, map[string]any{"clientId": a.ClientID, "actor": "mwargs", "actorId": "test-id",
		"method": "ping", "ctx": map[string]any{}}, a.MustCall("mwargs", "test-id", "ping", nil))
}

func checkNoMiddlewareForHooksOrSubscriptions(t *testing.T, target Target) {
	a := target.start(t).dial()
	before := stats(a)["count"].(float64)
	s := &store{t: t}
	a.Sub("state:sub", "mwcount", "inst-1")
	s.waitState(a, func(v any) bool { return len(field(v, "connected").([]any)) == 1 })
	assert.Equal(t, before, stats(a)["count"])
	a.MustCall("mwcount", "inst-1", "ping", nil)
	assert.Equal(t, before+1, stats(a)["count"])
}

func checkLookupThenValidationThenMiddleware(t *testing.T, target Target) {
	a := target.start(t).dial()
	before := stats(a)["gate"].(float64)
	assert.Equal(t, "Unknown method: x", a.Call("mwgate", "g", "x", nil)["error"])
	msg := a.Call("mwgate", "g", "needs", map[string]any{"n": "nope"})["error"].(string)
	assert.True(t, strings.HasPrefix(msg, "Validation failed for needs: "), msg)
	msg = a.Call("mwgate", "g", "needs", map[string]any{})["error"].(string) // an absent member is invalid too
	assert.True(t, strings.HasPrefix(msg, "Validation failed for needs: "), msg)
	assert.Equal(t, before, stats(a)["gate"])
	assert.Equal(t, "Forbidden", a.Call("mwgate", "g", "needs", map[string]any{"n": 1})["error"])
	assert.Equal(t, before+1, stats(a)["gate"])
}

func checkContextMerging(t *testing.T, target Target) {
	a := target.start(t).dial()
	assert.Equal(t, map[string]any{"k": 2.0}, a.MustCall("mwmerge", "x", "getCtx", nil))
}

// Many connections calling one instance concurrently keep per-connection
// order and never lose a call.
func checkConcurrentCallersKeepOrder(t *testing.T, target Target) {
	srv := target.start(t)
	var wg sync.WaitGroup
	for range 8 {
		c := srv.dial()
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids := make([]string, 50)
			for i := range ids {
				ids[i] = c.RPC("plain", "shared", "increment", nil)
			}
			prev := 0.0
			for i := range ids {
				r := c.Next()
				if r["id"] != ids[i] || r["result"].(float64) <= prev {
					t.Errorf("out of order: %v", r)
					return
				}
				prev = r["result"].(float64)
			}
		}()
	}
	wg.Wait()
	a := srv.dial()
	assert.Equal(t, 401.0, a.MustCall("plain", "shared", "increment", nil))
}
