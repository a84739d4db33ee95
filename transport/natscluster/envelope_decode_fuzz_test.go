package natscluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/zocket-go/zocket/internal/jsonscan"
)

// FuzzDecodeInbound checks the scan against encoding/json, read as
// JSON.parse reads an object (exact keys, the last of repeated members): on
// valid JSON both agree; on invalid JSON the scan fails, or what it let
// through is broken inside the message or the claims, which their readers
// check.
func FuzzDecodeInbound(f *testing.F) {
	user := "u-1"
	f.Add(append(inboundHead(decodeScope, "s-1", &user, map[string]any{"role": "admin"}), rpcFrame+"}"...))
	f.Add(append(inboundHead(decodeScope, "s\u00e9\"", nil, nil), `{}}`...))
	f.Add([]byte(` {"message":{"a":[1,{"b":"}\""}]},"userId":null,"sessionId":"s\u0031","scope":{"projectId":"prj-1","workspaceId":"ws-1"},"x":[true,false,null,-1.5e3]} `))
	f.Add([]byte(`{"sessionId":"a","sessionId":"b","message":{},"message":{"c":1},"scope":null}`))
	f.Add([]byte(`{"sessionId":"s","message":{"a":1,}}`))
	f.Add([]byte(`{"sessionId":"0","message":{0},"message":{}}`))
	f.Add([]byte(`{"sessionId":"s","message":"x"}`))
	f.Add([]byte(`{"sessionId":"s","claims":[1,2],"message":{}} x`))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := decodeInbound(data, decodeScope)
		if !json.Valid(data) {
			if err == nil && jsonscan.Valid(w.Message) && (w.Claims == nil || jsonscan.Valid(w.Claims)) {
				t.Fatalf("accepted invalid JSON %q", data)
			}
			return
		}
		user, _ := jsonscan.Unquote(w.UserID)
		agree(t, data, err, inboundOf{w.Namespace, w.SessionID, user, string(w.Claims), string(w.Message)}, inboundOracle)
	})
}

// FuzzDecodeOutbound does the same for the envelopes a gateway reads,
// whose message is checked whole.
func FuzzDecodeOutbound(f *testing.F) {
	f.Add(appendGatewayOutbound(nil, decodeScope, []string{"s-1", "s\"2"}, []byte(rpcFrame)))
	f.Add(appendOutbound(nil, decodeScope, "s-1", []byte(rpcFrame)))
	f.Add([]byte(`{"sessionIds":["a",null,"\u00e9"],"sessionIds":null,"message":{"x":[]}}`))
	f.Add([]byte(`{"sessionIds":["a",1],"message":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := decodeOutbound(data, decodeScope, "s-1")
		if !json.Valid(data) {
			if err == nil {
				t.Fatalf("accepted invalid JSON %q", data)
			}
			return
		}
		ids := sessionIDs(&w)
		agree(t, data, err, outboundOf{w.Namespace, w.SessionID, string(w.Message), fmt.Sprintf("%q", ids), len(ids) == w.NumSessionIDs}, outboundOracle)
	})
}

// agree fails t unless the decode of valid JSON data (got, or err) and
// the oracle's agree.
func agree[T comparable](t *testing.T, data []byte, err error, got T, oracle func([]byte) (T, bool)) {
	t.Helper()
	want, ok := oracle(data)
	if (err == nil) != ok {
		t.Fatalf("decode %q: err %v, encoding/json accepts: %v", data, err, ok)
	}
	if ok && got != want {
		t.Fatalf("decode %q:\n got %+v\nwant %+v", data, got, want)
	}
}

type inboundOf struct {
	Namespace         Namespace
	SessionID, UserID string
	Claims, Message   string
}

type outboundOf struct {
	Namespace Namespace
	SessionID string
	Message   string
	IDs       string // quoted
	Counted   bool   // NumSessionIDs is right
}

func inboundOracle(data []byte) (w inboundOf, ok bool) {
	ok = eachMember(data, func(key string, v json.RawMessage) bool {
		switch key {
		case "scope":
			return scopeOracle(v, &w.Namespace)
		case "sessionId":
			return stringOracle(v, &w.SessionID)
		case "userId":
			return stringOracle(v, &w.UserID)
		case "claims":
			w.Claims = string(v)
		case "message":
			w.Message = string(v)
			return v[0] == '{'
		}
		return true
	})
	return w, ok && w.SessionID != "" && w.Message != ""
}

func outboundOracle(data []byte) (w outboundOf, ok bool) {
	var ids []string
	ok = eachMember(data, func(key string, v json.RawMessage) bool {
		switch key {
		case "scope":
			return scopeOracle(v, &w.Namespace)
		case "sessionId":
			return stringOracle(v, &w.SessionID)
		case "sessionIds":
			ids = nil
			return json.Unmarshal(v, &ids) == nil
		case "message":
			w.Message = string(v)
			return v[0] == '{'
		}
		return true
	})
	w.IDs, w.Counted = fmt.Sprintf("%q", ids), true
	return w, ok && w.Message != ""
}

// eachMember calls member with each member of the JSON object data, in
// order, until it returns false; it reports false if data is not an object
// or member returned false.
func eachMember(data []byte, member func(key string, v json.RawMessage) bool) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var v json.RawMessage
		if dec.Decode(&v) != nil || !member(tok.(string), v) {
			return false
		}
	}
	_, err := dec.Token()
	_, eof := dec.Token()
	return err == nil && errors.Is(eof, io.EOF)
}

// scopeOracle decodes a scope object, or null as none.
func scopeOracle(v json.RawMessage, dst *Namespace) bool {
	*dst = Namespace{}
	return bytes.Equal(v, []byte("null")) || eachMember(v, func(key string, v json.RawMessage) bool {
		switch key {
		case "workspaceId":
			return stringOracle(v, &dst.WorkspaceID)
		case "projectId":
			return stringOracle(v, &dst.ProjectID)
		}
		return true
	})
}

// stringOracle decodes a JSON string, or null as "".
func stringOracle(v json.RawMessage, dst *string) bool {
	var s *string
	if json.Unmarshal(v, &s) != nil {
		return false
	}
	*dst = ""
	if s != nil {
		*dst = *s
	}
	return true
}
