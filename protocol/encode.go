package protocol

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// AppendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD and
// U+2028/U+2029 are escaped, as encoding/json does; <, > and & are not escaped.
func AppendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func appendHead(dst []byte, typ Type) []byte {
	dst = append(dst, `{"type":"`...)
	dst = append(dst, typ...)
	return append(dst, '"')
}

func appendAddress(dst []byte, actor, actorID string) []byte {
	dst = append(dst, `,"actor":`...)
	dst = AppendString(dst, actor)
	dst = append(dst, `,"actorId":`...)
	return AppendString(dst, actorID)
}

func appendRaw(dst []byte, key string, raw json.RawMessage) []byte {
	if raw == nil {
		return dst
	}
	dst = append(dst, ',', '"')
	dst = append(dst, key...)
	dst = append(dst, '"', ':')
	return append(dst, raw...)
}

// AppendWelcome appends {"type":"welcome","clientId":…}.
func AppendWelcome(dst []byte, clientID string) []byte {
	dst = appendHead(dst, TypeWelcome)
	dst = append(dst, `,"clientId":`...)
	dst = AppendString(dst, clientID)
	return append(dst, '}')
}

// AppendResult appends a successful rpc:result. A nil id leaves out "id";
// a nil result leaves out "result" (a method that returned nothing).
func AppendResult(dst []byte, id, result json.RawMessage) []byte {
	dst = appendHead(dst, TypeRPCResult)
	dst = appendRaw(dst, "id", id)
	dst = appendRaw(dst, "result", result)
	return append(dst, '}')
}

// AppendError appends a failed rpc:result. An empty message is sent as
// "Unknown error" (the TS client reads "" as success).
func AppendError(dst []byte, id json.RawMessage, message string) []byte {
	if message == "" {
		message = "Unknown error"
	}
	dst = appendHead(dst, TypeRPCResult)
	dst = appendRaw(dst, "id", id)
	dst = append(dst, `,"error":`...)
	dst = AppendString(dst, message)
	return append(dst, '}')
}

// AppendStream appends an rpc:stream chunk for the call with the given id.
func AppendStream(dst []byte, id, chunk json.RawMessage) []byte {
	dst = appendHead(dst, TypeRPCStream)
	dst = appendRaw(dst, "id", id)
	dst = appendRaw(dst, "chunk", chunk)
	return append(dst, '}')
}

// AppendEvent appends an event message. A nil payload leaves out "payload".
func AppendEvent(dst []byte, actor, actorID, event string, payload json.RawMessage) []byte {
	dst = appendHead(dst, TypeEvent)
	dst = appendAddress(dst, actor, actorID)
	dst = append(dst, `,"event":`...)
	dst = AppendString(dst, event)
	dst = appendRaw(dst, "payload", payload)
	return append(dst, '}')
}

// AppendSnapshot appends a state:snapshot carrying the encoded state.
func AppendSnapshot(dst []byte, actor, actorID string, state json.RawMessage) []byte {
	dst = appendHead(dst, TypeStateSnapshot)
	dst = appendAddress(dst, actor, actorID)
	if state == nil {
		state = json.RawMessage("null")
	}
	dst = appendRaw(dst, "state", state)
	return append(dst, '}')
}

// AppendPatch appends a state:patch whose "patches" member is the already
// encoded JSON array ops (see AppendOp).
func AppendPatch(dst []byte, actor, actorID string, ops []byte) []byte {
	dst = appendHead(dst, TypeStatePatch)
	dst = appendAddress(dst, actor, actorID)
	dst = append(dst, `,"patches":`...)
	dst = append(dst, ops...)
	return append(dst, '}')
}

// AppendVersion closes a state:snapshot or state:patch frame built by
// AppendSnapshot or AppendPatch with its place in the instance's history:
// it replaces the final '}' with the "version" and "epoch" members.
// Clients that do not know them ignore them.
func AppendVersion(frame []byte, version uint64, epoch string) []byte {
	frame = append(frame[:len(frame)-1], `,"version":`...)
	frame = strconv.AppendUint(frame, version, 10)
	frame = append(frame, `,"epoch":`...)
	frame = AppendString(frame, epoch)
	return append(frame, '}')
}

// AppendResume appends a state:sub that names the state the client has,
// so that the server can answer with the patches after it instead of a
// snapshot (a server that does not resume ignores the members).
func AppendResume(dst []byte, actor, actorID string, version uint64, epoch string) []byte {
	return AppendVersion(AppendSub(dst, TypeStateSub, actor, actorID), version, epoch)
}

// AppendOp appends one patch operation object. A nil value leaves out "value"
// (only valid for remove).
func AppendOp(dst []byte, op, path string, value json.RawMessage) []byte {
	dst = append(dst, `{"op":"`...)
	dst = append(dst, op...)
	dst = append(dst, `","path":`...)
	dst = AppendString(dst, path)
	dst = appendRaw(dst, "value", value)
	return append(dst, '}')
}

// AppendRPC appends an rpc request. A nil input leaves out "input" (a call
// without argument); use json.RawMessage("null") to send an explicit null.
func AppendRPC(dst []byte, id json.RawMessage, actor, actorID, method string, input json.RawMessage) []byte {
	dst = appendHead(dst, TypeRPC)
	dst = appendRaw(dst, "id", id)
	dst = appendAddress(dst, actor, actorID)
	dst = append(dst, `,"method":`...)
	dst = AppendString(dst, method)
	dst = appendRaw(dst, "input", input)
	return append(dst, '}')
}

// AppendSub appends one of event:sub, event:unsub, state:sub, state:unsub.
func AppendSub(dst []byte, typ Type, actor, actorID string) []byte {
	dst = appendHead(dst, typ)
	dst = appendAddress(dst, actor, actorID)
	return append(dst, '}')
}

// AppendIndex appends a JSON Pointer array index segment ("/<i>").
func AppendIndex(dst []byte, i int) []byte {
	dst = append(dst, '/')
	return strconv.AppendInt(dst, int64(i), 10)
}
