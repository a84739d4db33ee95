package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// rawMessage receives every member as raw JSON so that absent and null can be
// told apart and ids pass through verbatim.
type rawMessage struct {
	Type     json.RawMessage `json:"type"`
	ID       json.RawMessage `json:"id"`
	Actor    json.RawMessage `json:"actor"`
	ActorID  json.RawMessage `json:"actorId"`
	Method   json.RawMessage `json:"method"`
	Input    json.RawMessage `json:"input"`
	ClientID json.RawMessage `json:"clientId"`
	Result   json.RawMessage `json:"result"`
	Error    json.RawMessage `json:"error"`
	Chunk    json.RawMessage `json:"chunk"`
	Event    json.RawMessage `json:"event"`
	Payload  json.RawMessage `json:"payload"`
	State    json.RawMessage `json:"state"`
	Patches  json.RawMessage `json:"patches"`
}

// Parse decodes one frame. An error wrapping ErrIgnore means the frame must be
// ignored without a reply; its text says why, for logging. An error wrapping
// ErrField means the type is known but an addressing member is missing or not
// a string; the returned Message then carries Type and ID.
//
// Parse never panics. JSON nested deeper than encoding/json's limit (10,000
// levels) is reported as invalid JSON.
func Parse(data []byte) (Message, error) {
	var raw rawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return Message{}, fmt.Errorf("%w: not a JSON object", ErrIgnore)
		}
		return Message{}, fmt.Errorf("%w: invalid JSON: %v", ErrIgnore, err)
	}
	if raw.Type == nil {
		if firstByte(data) != '{' {
			return Message{}, fmt.Errorf("%w: not a JSON object", ErrIgnore)
		}
		return Message{}, fmt.Errorf("%w: missing type", ErrIgnore)
	}
	t, ok := unquote(raw.Type)
	if !ok {
		return Message{}, fmt.Errorf("%w: type is not a string", ErrIgnore)
	}
	typ := Type(t)
	if !typ.Known() {
		return Message{}, fmt.Errorf("%w: unknown type %q", ErrIgnore, truncate(t))
	}
	m := Message{Type: typ, ID: raw.ID, Input: raw.Input, Result: raw.Result,
		Chunk: raw.Chunk, Payload: raw.Payload, State: raw.State}
	var bad []string
	need := func(name string, src json.RawMessage, dst *string) {
		s, ok := unquote(src)
		if !ok {
			bad = append(bad, name)
			return
		}
		*dst = s
	}
	switch typ {
	case TypeRPC:
		need("actor", raw.Actor, &m.Actor)
		need("actorId", raw.ActorID, &m.ActorID)
		need("method", raw.Method, &m.Method)
	case TypeEventSub, TypeEventUnsub, TypeStateSub, TypeStateUnsub, TypeStateSnapshot:
		need("actor", raw.Actor, &m.Actor)
		need("actorId", raw.ActorID, &m.ActorID)
	case TypeEvent:
		need("actor", raw.Actor, &m.Actor)
		need("actorId", raw.ActorID, &m.ActorID)
		need("event", raw.Event, &m.Event)
	case TypeStatePatch:
		need("actor", raw.Actor, &m.Actor)
		need("actorId", raw.ActorID, &m.ActorID)
		if err := json.Unmarshal(raw.Patches, &m.Patches); err != nil || raw.Patches == nil {
			bad = append(bad, "patches")
		}
	case TypeWelcome:
		need("clientId", raw.ClientID, &m.ClientID)
	case TypeRPCResult:
		if raw.Error != nil {
			if s, ok := unquote(raw.Error); ok {
				m.Error, m.HasError = s, true
			}
		}
	}
	if len(bad) > 0 {
		return m, fmt.Errorf("%w: %s: %v must be a string", ErrField, typ, bad)
	}
	return m, nil
}

func firstByte(data []byte) byte {
	data = bytes.TrimLeft(data, " \t\r\n")
	if len(data) == 0 {
		return 0
	}
	return data[0]
}

// unquote decodes a raw JSON string; ok is false for absent or non-string values.
func unquote(raw json.RawMessage) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		return string(body), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
