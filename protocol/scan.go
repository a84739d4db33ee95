package protocol

import (
	"bytes"
	"encoding/json"

	"github.com/zocket-go/zocket/internal/jsonscan"
)

// rawMessage holds every member of interest as raw JSON, nil when absent, so
// that absent and null can be told apart and ids pass through verbatim.
type rawMessage struct {
	Type, ID, Actor, ActorID, Method, Input, ClientID    json.RawMessage
	Result, Error, Chunk, Event, Payload, State, Patches json.RawMessage
	TraceParent, TraceState                              json.RawMessage
	Version, Epoch                                       json.RawMessage
}

// scanObject splits already validated JSON into the members Parse needs.
// Keys match exactly (case-sensitive, as in JavaScript); a repeated key keeps
// its last value, as JSON.parse does. ok is false when data is not an object.
func scanObject(data []byte) (raw rawMessage, ok bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return raw, false
	}
	i = skipSpace(data, i+1)
	for i < len(data) && data[i] != '}' {
		kEnd := skipString(data, i)
		key := data[i+1 : kEnd-1]
		i = skipSpace(data, kEnd)
		i = skipSpace(data, i+1) // ':'
		vEnd := skipValue(data, i)
		if dst := raw.member(key); dst != nil {
			*dst = data[i:vEnd:vEnd]
		}
		i = skipSpace(data, vEnd)
		if i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	return raw, true
}

func (r *rawMessage) member(key []byte) *json.RawMessage {
	if bytes.IndexByte(key, '\\') >= 0 {
		var k string
		if json.Unmarshal(append(append([]byte{'"'}, key...), '"'), &k) != nil {
			return nil
		}
		key = []byte(k)
	}
	switch string(key) {
	case "type":
		return &r.Type
	case "id":
		return &r.ID
	case "actor":
		return &r.Actor
	case "actorId":
		return &r.ActorID
	case "method":
		return &r.Method
	case "input":
		return &r.Input
	case "clientId":
		return &r.ClientID
	case "result":
		return &r.Result
	case "error":
		return &r.Error
	case "chunk":
		return &r.Chunk
	case "event":
		return &r.Event
	case "payload":
		return &r.Payload
	case "state":
		return &r.State
	case "patches":
		return &r.Patches
	case "version":
		return &r.Version
	case "epoch":
		return &r.Epoch
	case "traceparent":
		return &r.TraceParent
	case "tracestate":
		return &r.TraceState
	}
	return nil
}

func skipSpace(data []byte, i int) int { return jsonscan.SkipSpace(data, i) }

func skipString(data []byte, i int) int { return jsonscan.SkipString(data, i) }

func skipValue(data []byte, i int) int { return jsonscan.SkipValue(data, i) }

// valid reports whether data is exactly one JSON value, as json.Valid does.
func valid(data []byte) bool { return jsonscan.Valid(data) }
