package protocol_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/protocol"
)

func TestParseIgnoresWhatPROTOCOLSaysToIgnore(t *testing.T) {
	for _, frame := range []string{`not json`, `42`, `null`, `[]`, `"s"`, `{}`, `{"type":5}`,
		`{"type":"bogus"}`, `{"type":"rpc"`, ``} {
		_, err := protocol.Parse([]byte(frame))
		assert.ErrorIs(t, err, protocol.ErrIgnore, frame)
	}
}

func TestParseRPC(t *testing.T) {
	m, err := protocol.Parse([]byte(`{"type":"rpc","id":{"x":[1]},"actor":"chat","actorId":"r\u00e9","method":"m","input":null,"extra":1}`))
	require.NoError(t, err)
	assert.Equal(t, protocol.TypeRPC, m.Type)
	assert.Equal(t, `{"x":[1]}`, string(m.ID))
	assert.Equal(t, "ré", m.ActorID)
	assert.Equal(t, "null", string(m.Input), "explicit null is kept")

	m, err = protocol.Parse([]byte(`{"type":"rpc","actor":"a","actorId":"b","method":"m"}`))
	require.NoError(t, err)
	assert.Nil(t, m.ID)
	assert.Nil(t, m.Input, "absent input is nil")
}

func TestParseBadAddressingKeepsID(t *testing.T) {
	m, err := protocol.Parse([]byte(`{"type":"rpc","id":"x","actor":5,"actorId":"b"}`))
	assert.ErrorIs(t, err, protocol.ErrField)
	assert.False(t, errors.Is(err, protocol.ErrIgnore))
	assert.Equal(t, `"x"`, string(m.ID))
}

func TestBuildersMatchTSShapes(t *testing.T) {
	id := json.RawMessage(`"r1"`)
	cases := map[string][]byte{
		`{"type":"welcome","clientId":"c"}`:                                   protocol.AppendWelcome(nil, "c"),
		`{"type":"rpc:result","id":"r1"}`:                                     protocol.AppendResult(nil, id, nil),
		`{"type":"rpc:result","id":"r1","result":null}`:                       protocol.AppendResult(nil, id, json.RawMessage("null")),
		`{"type":"rpc:result","id":"r1","error":"Unknown error"}`:             protocol.AppendError(nil, id, ""),
		`{"type":"event","actor":"a","actorId":"b","event":"e","payload":{}}`: protocol.AppendEvent(nil, "a", "b", "e", json.RawMessage("{}")),
		`{"type":"state:snapshot","actor":"a","actorId":"b","state":{"n":1}}`: protocol.AppendSnapshot(nil, "a", "b", json.RawMessage(`{"n":1}`)),
		`{"type":"state:patch","actor":"a","actorId":"b","patches":[]}`:       protocol.AppendPatch(nil, "a", "b", []byte("[]")),
		`{"op":"remove","path":"/a~1b"}`:                                      protocol.AppendOp(nil, "remove", "/a~1b", nil),
		`{"type":"rpc","id":"r1","actor":"a","actorId":"b","method":"m"}`:     protocol.AppendRPC(nil, id, "a", "b", "m", nil),
		`{"type":"state:sub","actor":"a\"","actorId":"b"}`:                    protocol.AppendSub(nil, protocol.TypeStateSub, `a"`, "b"),
		`{"type":"rpc:stream","id":"r1","chunk":"tok"}`:                       protocol.AppendStream(nil, id, json.RawMessage(`"tok"`)),
	}
	for want, got := range cases {
		assert.Equal(t, want, string(got))
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "q\"b\\", "\n\r\t\x00\x1f", "é✓😀", "\u2028\u2029", "bad\xffutf8", "<&>"} {
		var back string
		require.NoError(t, json.Unmarshal(protocol.AppendString(nil, s), &back), s)
		want, _ := json.Marshal(s)
		var wantBack string
		require.NoError(t, json.Unmarshal(want, &wantBack))
		assert.Equal(t, wantBack, back)
	}
}

func TestPointerEscaping(t *testing.T) {
	p := protocol.AppendSegment(protocol.AppendSegment(nil, "o"), "a/b~c")
	assert.Equal(t, "/o/a~1b~0c", string(p))
	assert.Equal(t, []string{"o", "a/b~c"}, protocol.SplitPointer(string(p)))
	assert.Equal(t, []string{"~1"}, protocol.SplitPointer("/~01"))
	assert.Nil(t, protocol.SplitPointer("/"))
	assert.Nil(t, protocol.SplitPointer(""))
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"type":"rpc","id":1,"actor":"a","actorId":"b","method":"m","input":{}}`,
		`{"type":"state:patch","actor":"a","actorId":"b","patches":[{"op":"add","path":"/x","value":1}]}`,
		`{"type":"rpc:result","id":"x","error":""}`, `[]`,
		`{"type":"rpc","id":2,"actor":"a","actorId":"b","method":"m","traceparent":"00-ab-cd-01","tracestate":"k=v"}`, `null`, `{"type":"welcome","clientId":"c"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := protocol.Parse(data)
		if err == nil && !m.Type.Known() {
			t.Fatalf("accepted unknown type %q", m.Type)
		}
		if err == nil {
			// Agrees with encoding/json decoding into a map (exact keys,
			// last duplicate wins).
			var ref map[string]json.RawMessage
			if json.Unmarshal(data, &ref) != nil {
				t.Fatalf("accepted what encoding/json rejects: %q", data)
			}
			var typ string
			_ = json.Unmarshal(ref["type"], &typ)
			if typ != string(m.Type) {
				t.Fatalf("type %q, encoding/json says %q", m.Type, typ)
			}
			if id := ref["id"]; string(bytes.TrimSpace(id)) != string(bytes.TrimSpace(m.ID)) {
				t.Fatalf("id %q, encoding/json says %q", m.ID, id)
			}
		}
		if err == nil && m.Type == protocol.TypeRPC {
			// A parsed rpc round-trips through the builder.
			again, err := protocol.Parse(protocol.AppendRPC(nil, m.ID, m.Actor, m.ActorID, m.Method, m.Input))
			if err != nil || again.Actor != m.Actor || again.Method != m.Method {
				t.Fatalf("round trip: %v %+v", err, again)
			}
		}
	})
}
