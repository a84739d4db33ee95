package protocol

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/zocket-go/zocket/internal/jsonscan"
)

// Parse decodes one frame. An error wrapping ErrIgnore means the frame must be
// ignored without a reply; its text says why, for logging. An error wrapping
// ErrField means the type is known but an addressing member is missing or not
// a string; the returned Message then carries Type and ID.
//
// Parse never panics. JSON nested deeper than encoding/json's limit (10,000
// levels) is reported as invalid JSON.
func Parse(data []byte) (Message, error) {
	if !valid(data) {
		return Message{}, fmt.Errorf("%w: invalid JSON", ErrIgnore)
	}
	raw, ok := scanObject(data)
	if !ok {
		return Message{}, fmt.Errorf("%w: not a JSON object", ErrIgnore)
	}
	if raw.Type == nil {
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
	ok = true
	switch typ {
	case TypeRPC:
		ok = str(raw.Actor, &m.Actor) && str(raw.ActorID, &m.ActorID) && str(raw.Method, &m.Method)
		if raw.TraceParent != nil { // optional: a value that is not a string is ignored
			str(raw.TraceParent, &m.TraceParent)
			str(raw.TraceState, &m.TraceState)
		}
	case TypeEventSub, TypeEventUnsub, TypeStateSub, TypeStateUnsub, TypeStateSnapshot:
		ok = str(raw.Actor, &m.Actor) && str(raw.ActorID, &m.ActorID)
	case TypeEvent:
		ok = str(raw.Actor, &m.Actor) && str(raw.ActorID, &m.ActorID) && str(raw.Event, &m.Event)
	case TypeStatePatch:
		ok = str(raw.Actor, &m.Actor) && str(raw.ActorID, &m.ActorID) && raw.Patches != nil
		if ok {
			m.Patches, ok = decodeOps(raw.Patches)
		}
	case TypeWelcome:
		ok = str(raw.ClientID, &m.ClientID)
	case TypeRPCResult:
		m.HasError = raw.Error != nil && str(raw.Error, &m.Error)
	}
	if !ok {
		return m, fmt.Errorf("%w: %s: addressing members must be strings", ErrField, typ)
	}
	switch typ {
	case TypeStateSub, TypeStateSnapshot, TypeStatePatch:
		if raw.Version != nil { // optional: a value of another kind is ignored
			m.Version, m.HasVersion = version(raw.Version)
			str(raw.Epoch, &m.Epoch)
		}
	}
	return m, nil
}

// version decodes a non-negative JSON integer.
func version(raw json.RawMessage) (uint64, bool) {
	v, err := strconv.ParseUint(string(raw), 10, 64)
	return v, err == nil
}

func decodeOps(raw json.RawMessage) ([]Op, bool) {
	var ops []Op
	err := json.Unmarshal(raw, &ops)
	return ops, err == nil
}

// str decodes a raw JSON string into dst; it reports false for absent or
// non-string values.
func str(raw json.RawMessage, dst *string) bool {
	s, ok := unquote(raw)
	*dst = s
	return ok
}

// unquote decodes a raw JSON string; ok is false for absent or non-string values.
func unquote(raw json.RawMessage) (string, bool) { return jsonscan.Unquote(raw) }

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
