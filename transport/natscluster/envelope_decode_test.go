package natscluster

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/jsonscan"
)

var decodeScope = Namespace{WorkspaceID: "ws-1", ProjectID: "prj-1"}

const rpcFrame = `{"type":"rpc","id":"r1","actor":"room","actorId":"a","method":"say","input":{"text":"hi \"you\""}}`

func TestDecodeInbound_ReadsAnyValidSpelling(t *testing.T) {
	user := "u-1"
	ours := append(inboundHead(decodeScope, "s-1", &user, map[string]any{"role": "admin"}), rpcFrame+"}"...)
	for _, tc := range []struct {
		name, data  string
		session     string
		user        *string
		claims, msg string
	}{
		{"as our gateway encodes it", string(ours), "s-1", &user, `{"role":"admin"}`, rpcFrame},
		{"members in another order",
			`{"message":{"type":"x"},"claims":{},"userId":"u-1","sessionId":"s-1","scope":{"projectId":"prj-1","workspaceId":"ws-1"}}`,
			"s-1", &user, `{}`, `{"type":"x"}`},
		{"white space everywhere",
			" \n{ \"scope\" : { \"workspaceId\" : \"ws-1\" , \"projectId\" : \"prj-1\" } ,\t\"sessionId\" : \"s-1\" , \"message\" : { \"type\" : \"x\" } }\r\n",
			"s-1", nil, "", `{ "type" : "x" }`},
		{"escapes and unicode escapes in strings",
			`{"scope":{"workspaceId":"ws\u002d1","projectId":"prj-1"},"sessionId":"s\u00e9\"\\\ud83d\ude00","userId":"\u0075-1","message":{}}`,
			"sé\"\\😀", &user, "", `{}`},
		{"escapes in keys",
			`{"sc\u006fpe":{"workspaceId":"ws-1","projectId":"prj-1"},"sessionI\u0064":"s-1","message":{}}`,
			"s-1", nil, "", `{}`},
		{"a repeated member keeps its last value",
			`{"scope":{"workspaceId":"other"},"sessionId":"s-0","sessionId":"s-1","message":{"a":1},"message":{"b":2},"scope":{"workspaceId":"ws-1","projectId":"prj-1"}}`,
			"s-1", nil, "", `{"b":2}`},
		{"userId null is no user",
			`{"scope":{"workspaceId":"ws-1","projectId":"prj-1"},"sessionId":"s-1","userId":null,"claims":null,"message":{}}`,
			"s-1", nil, "null", `{}`},
		{"unknown members are skipped, strings with brackets and escaped quotes too",
			`{"x":{"y":["}",{"z":"\"]}"}]},"scope":{"workspaceId":"ws-1","projectId":"prj-1","extra":[1,-2.5e3,true,false,null]},"n":-0.1,"sessionId":"s-1","message":{"k":"]}\"{"}}`,
			"s-1", nil, "", `{"k":"]}\"{"}`},
		{"keys match exactly", `{"scope":{"workspaceId":"ws-1","projectId":"prj-1"},"SessionId":"x","sessionId":"s-1","Message":5,"message":{}}`,
			"s-1", nil, "", `{}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := decodeInbound([]byte(tc.data), decodeScope)
			require.NoError(t, err)
			assert.Equal(t, decodeScope, w.Namespace)
			assert.Equal(t, tc.session, w.SessionID)
			if u, ok := jsonscan.Unquote(w.UserID); tc.user != nil {
				assert.Equal(t, *tc.user, u)
			} else {
				assert.False(t, ok, "no user")
			}
			assert.Equal(t, tc.claims, string(w.Claims))
			assert.Equal(t, tc.msg, string(w.Message))
		})
	}
}

func TestDecodeInbound_RejectsWhatIsNotAnEnvelope(t *testing.T) {
	const head = `{"scope":{"workspaceId":"ws-1","projectId":"prj-1"},"sessionId":"s-1",`
	for name, data := range map[string]string{
		"empty":                    ``,
		"not JSON":                 `not json`,
		"an array":                 `[` + head[1:] + `"message":{}]`,
		"truncated in the message": head + `"message":{"type":"rpc"`,
		"truncated in a string":    head + `"message":{"type":"rpc"}, "x":"ab`,
		"truncated after a member": head + `"message":{}`,
		"trailing garbage":         head + `"message":{}} x`,
		"a second object":          head + `"message":{}}{}`,
		"no sessionId":             `{"scope":{},"message":{}}`,
		"an empty sessionId":       `{"sessionId":"","message":{}}`,
		"sessionId not a string":   `{"sessionId":7,"message":{}}`,
		"no message":               head + `"claims":{}}`,
		"message null":             head + `"message":null}`,
		"message a string":         head + `"message":"{}"}`,
		"message an array":         head + `"message":[{}]}`,
		"message unbalanced":       head + `"message":{"a":[}]}`,
		"broken message repeated":  head + `"message":{0},"message":{}}`,
		"broken claims repeated":   head + `"claims":{0},"claims":{},"message":{}}`,
		"userId not a string":      head + `"userId":1,"message":{}}`,
		"scope not an object":      `{"scope":"ws-1","sessionId":"s-1","message":{}}`,
		"workspaceId not a string": `{"scope":{"workspaceId":1},"sessionId":"s-1","message":{}}`,
		"invalid unknown member":   head + `"x":[1,],"message":{}}`,
		"invalid literal":          head + `"x":nul,"message":{}}`,
		"invalid escape":           head + `"x":"\q","message":{}}`,
		"control character":        head + "\"x\":\"\x01\",\"message\":{}}",
		"missing colon":            `{"sessionId" "s-1","message":{}}`,
		"missing comma":            `{"sessionId":"s-1" "message":{}}`,
		"trailing comma":           head + `"message":{},}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := decodeInbound([]byte(data), decodeScope)
			assert.ErrorIs(t, err, errEnvelope)
		})
	}
}

// The message's inside is left to protocol.Parse: a broken inside passes
// the scan (the runtime then checks it), but never a broken envelope.
func TestDecodeInbound_LeavesTheMessageInsideToItsReader(t *testing.T) {
	w, err := decodeInbound([]byte(`{"sessionId":"s-1","message":{"a":1,}}`), decodeScope)
	require.NoError(t, err)
	assert.False(t, json.Valid(w.Message))
}

func TestDecodeOutbound_ReadsBothEnvelopes(t *testing.T) {
	const frame = `{"type":"event","actor":"room","actorId":"a","event":"said","payload":{"t":"}"}}`
	g, err := decodeOutbound(appendGatewayOutbound(nil, decodeScope, []string{"s-1", "s-2", "s\"3"}, []byte(frame)), decodeScope, "")
	require.NoError(t, err)
	assert.Equal(t, decodeScope, g.Namespace)
	assert.Equal(t, frame, string(g.Message))
	assert.Equal(t, []string{"s-1", "s-2", `s"3`}, sessionIDs(&g))
	assert.Equal(t, 3, g.NumSessionIDs)

	s, err := decodeOutbound(appendOutbound(nil, decodeScope, "s-1", []byte(frame)), decodeScope, "s-1")
	require.NoError(t, err)
	assert.Equal(t, "s-1", s.SessionID)
	assert.Equal(t, frame, string(s.Message))
	assert.Empty(t, sessionIDs(&s))

	g, err = decodeOutbound([]byte(` { "message" : {} , "sessionIds" : [ "a" , null , "\u0062" ] } `), decodeScope, "")
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "", "b"}, sessionIDs(&g))
	assert.Equal(t, 3, g.NumSessionIDs)
}

func TestDecodeOutbound_RejectsABrokenMessageOrIds(t *testing.T) {
	for name, data := range map[string]string{
		"broken message inside": `{"sessionIds":["a"],"message":{"a":[1,}}`,
		"message not an object": `{"sessionIds":["a"],"message":"x"}`,
		"no message":            `{"sessionIds":["a"]}`,
		"an id not a string":    `{"sessionIds":["a",1],"message":{}}`,
		"ids not an array":      `{"sessionIds":"a","message":{}}`,
		"ids unterminated":      `{"sessionIds":["a","message":{}}`,
		"trailing garbage":      `{"sessionIds":[],"message":{}}]`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := decodeOutbound([]byte(data), decodeScope, "")
			assert.ErrorIs(t, err, errEnvelope)
		})
	}
}

// Decoding allocates only what the runtime keeps: the session id of an
// inbound envelope. Scope strings of the expected namespace are not copied,
// and a gateway envelope costs nothing, its ids included.
func TestDecodeEnvelopes_Allocations(t *testing.T) {
	user := "u-1"
	in := append(inboundHead(decodeScope, "s-1", &user, map[string]any{"role": "admin"}), rpcFrame+"}"...)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := decodeInbound(in, decodeScope); err != nil {
			panic(err)
		}
	})
	assert.Equal(t, 1.0, allocs, "inbound")

	out := appendGatewayOutbound(nil, decodeScope, []string{"s-1", "s-2", "s-3"}, []byte(rpcFrame))
	var n int
	allocs = testing.AllocsPerRun(100, func() {
		w, err := decodeOutbound(out, decodeScope, "")
		if err != nil {
			panic(err)
		}
		for id := range w.SessionIDs() {
			n += len(id)
		}
	})
	assert.Equal(t, 0.0, allocs, "gateway outbound")
	assert.Equal(t, 101*9, n)

	out = appendOutbound(nil, decodeScope, "s-1", []byte(rpcFrame))
	allocs = testing.AllocsPerRun(100, func() {
		if _, err := decodeOutbound(out, decodeScope, "s-1"); err != nil {
			panic(err)
		}
	})
	assert.Equal(t, 0.0, allocs, "per-session outbound")
}

func sessionIDs(w *outboundWire) []string {
	var ids []string
	for id := range w.SessionIDs() {
		ids = append(ids, string(id))
	}
	return ids
}
