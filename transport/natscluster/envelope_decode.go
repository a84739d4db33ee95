package natscluster

import (
	"bytes"
	"errors"
	"fmt"
	"iter"
	"unicode/utf8"

	"github.com/zocket-go/zocket/internal/jsonscan"
)

// The envelopes are decoded in one scan of their members, without
// encoding/json: the client frame (the message) and the claims are handed
// on as sub-slices of the envelope, and strings are copied only when they
// are kept. Members are read as JSON.parse reads them: keys match exactly,
// a repeated member keeps its last value, unknown members are skipped and a
// null member counts as absent.

// errEnvelope is wrapped by the error of an envelope that cannot be
// decoded: it is not a JSON object, a member has the wrong kind, or a
// required member is missing.
var errEnvelope = errors.New("natscluster: invalid envelope")

// inboundWire is an InboundEnvelope as the runtime reads it.
type inboundWire struct {
	Namespace Namespace
	SessionID string
	// UserID is the raw userId member, a JSON string or null; nil when
	// absent. Like the claims it is needed only for a session's first
	// envelope.
	UserID []byte
	// Claims is the raw claims member: an object, not checked inside (it
	// is decoded with encoding/json on a session's first envelope), or
	// any other valid JSON value; nil when absent.
	Claims []byte
	// Message is the client frame: a JSON object whose inside is left to
	// protocol.Parse to check.
	Message []byte
}

// decodeInbound decodes an InboundEnvelope. A sessionId and a message are
// required. Scope strings equal to known's share its memory, so that an
// envelope of the runtime's own namespace costs no copy of them.
func decodeInbound(data []byte, known Namespace) (inboundWire, error) {
	var w inboundWire
	end := object(data, 0, func(key []byte, i int) int {
		switch string(key) {
		case "scope":
			return scope(data, i, known, &w.Namespace)
		case "sessionId":
			return str(data, i, "", &w.SessionID)
		case "userId":
			w.UserID = nil
			end := stringOrNull(data, i)
			if end > i && data[i] == '"' {
				w.UserID = data[i:end:end]
			}
			return end
		case "claims":
			if !checked(w.Claims) {
				return -1
			}
			end := unchecked(data, i)
			if end < 0 { // not an object: checked, as it is short
				end = jsonscan.SkipValid(data, i)
			}
			w.Claims = sub(data, i, end)
			return end
		case "message":
			if !checked(w.Message) {
				return -1
			}
			end := unchecked(data, i)
			w.Message = sub(data, i, end)
			return end
		}
		return jsonscan.SkipValid(data, i)
	})
	if err := scanned(data, end, w.Message); err != nil {
		return w, err
	}
	if w.SessionID == "" {
		return w, fmt.Errorf("%w: no sessionId", errEnvelope)
	}
	return w, nil
}

// outboundWire is an OutboundEnvelope or a GatewayOutboundEnvelope as a
// gateway reads it.
type outboundWire struct {
	Namespace Namespace
	// SessionID is the sessionId member (OutboundEnvelope).
	SessionID string
	// ids is the sessionIds member (GatewayOutboundEnvelope): a checked
	// array of strings and nulls, read by SessionIDs.
	ids []byte
	// NumSessionIDs is the length of ids.
	NumSessionIDs int
	// Message is the server frame: a checked JSON object, written to
	// sockets as it is.
	Message []byte
}

// decodeOutbound decodes an OutboundEnvelope or a GatewayOutboundEnvelope;
// a message is required. Scope strings equal to known's, and a session id
// equal to knownID, share their memory: the gateway knows both from the
// subject, and decoding costs no copy.
func decodeOutbound(data []byte, known Namespace, knownID string) (outboundWire, error) {
	var w outboundWire
	end := object(data, 0, func(key []byte, i int) int {
		switch string(key) {
		case "scope":
			return scope(data, i, known, &w.Namespace)
		case "sessionId":
			return str(data, i, knownID, &w.SessionID)
		case "sessionIds":
			end, n := stringArray(data, i)
			w.ids, w.NumSessionIDs = sub(data, i, end), n
			return end
		case "message":
			end := -1
			if i < len(data) && data[i] == '{' {
				end = jsonscan.SkipValid(data, i)
			}
			w.Message = sub(data, i, end)
			return end
		}
		return jsonscan.SkipValid(data, i)
	})
	return w, scanned(data, end, w.Message)
}

// SessionIDs yields the ids of a GatewayOutboundEnvelope, unescaped; a
// null id is empty. An id without escapes is a sub-slice of the envelope,
// not to be modified.
func (w *outboundWire) SessionIDs() iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		if len(w.ids) == 0 || w.ids[0] != '[' {
			return
		}
		for c := jsonscan.NewCursor(w.ids); ; {
			_, v, ok := c.Next(false)
			if !ok || !yield(unquoteBytes(v)) {
				return
			}
		}
	}
}

// object scans the JSON object at data[i] (white space before it allowed),
// calling member with each key, unescaped, and the index of its value;
// member returns the index after the value, or -1 when the value is
// invalid. object returns the index after the object, or -1 when the text
// there is not a valid object.
func object(data []byte, i int, member func(key []byte, value int) int) int {
	i = jsonscan.SkipSpace(data, i)
	if i >= len(data) || data[i] != '{' {
		return -1
	}
	i = jsonscan.SkipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return i + 1
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return -1
		}
		end := jsonscan.SkipValidString(data, i)
		if end < 0 {
			return -1
		}
		key := data[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			key = unquoteBytes(data[i:end])
		}
		i = jsonscan.SkipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return -1
		}
		if i = member(key, jsonscan.SkipSpace(data, i+1)); i < 0 {
			return -1
		}
		i = jsonscan.SkipSpace(data, i)
		if i >= len(data) {
			return -1
		}
		if data[i] == '}' {
			return i + 1
		}
		if data[i] != ',' {
			return -1
		}
		i = jsonscan.SkipSpace(data, i+1)
	}
}

// scope decodes the scope object (or null) at data[i] into dst.
func scope(data []byte, i int, known Namespace, dst *Namespace) int {
	*dst = Namespace{}
	if i < len(data) && data[i] == 'n' {
		return jsonscan.SkipValid(data, i)
	}
	return object(data, i, func(key []byte, v int) int {
		switch string(key) {
		case "workspaceId":
			return str(data, v, known.WorkspaceID, &dst.WorkspaceID)
		case "projectId":
			return str(data, v, known.ProjectID, &dst.ProjectID)
		}
		return jsonscan.SkipValid(data, v)
	})
}

// str decodes the string (or null, as "") at data[i] into dst; a string
// equal to known is known itself, not a copy.
func str(data []byte, i int, known string, dst *string) int {
	end := stringOrNull(data, i)
	switch {
	case end < 0 || data[i] == 'n':
		*dst = ""
	case string(data[i+1:end-1]) == known && bytes.IndexByte(data[i+1:end-1], '\\') < 0:
		*dst = known
	default:
		*dst, _ = jsonscan.Unquote(data[i:end])
	}
	return end
}

// stringOrNull returns the index after the JSON string or null at data[i],
// or -1 when there is neither.
func stringOrNull(data []byte, i int) int {
	if i < len(data) && (data[i] == '"' || data[i] == 'n') {
		return jsonscan.SkipValid(data, i)
	}
	return -1
}

// stringArray returns the index after the JSON array of strings and nulls
// (or null) at data[i], or -1 when there is none, and its length.
func stringArray(data []byte, i int) (end, n int) {
	if i >= len(data) || data[i] != '[' {
		if i < len(data) && data[i] == 'n' {
			return jsonscan.SkipValid(data, i), 0
		}
		return -1, 0
	}
	i = jsonscan.SkipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return i + 1, 0
	}
	for n = 1; ; n++ {
		if i = stringOrNull(data, i); i < 0 {
			return -1, 0
		}
		i = jsonscan.SkipSpace(data, i)
		if i >= len(data) {
			return -1, 0
		}
		if data[i] == ']' {
			return i + 1, n
		}
		if data[i] != ',' {
			return -1, 0
		}
		i = jsonscan.SkipSpace(data, i+1)
	}
}

// unchecked returns the index after the JSON object at data[i], found
// without checking what is inside, or -1 when there is no object. A
// malformed inside can move the end (the envelope around it then fails to
// scan) or be let through, for the reader of the value to reject.
func unchecked(data []byte, i int) int {
	if i >= len(data) || data[i] != '{' {
		return -1
	}
	end := jsonscan.SkipValue(data, i)
	if data[end-1] != '}' {
		return -1
	}
	return end
}

// checked reports whether an unchecked value, about to be replaced by a
// repeated member, is absent or valid: its reader will never see it.
func checked(v []byte) bool { return v == nil || jsonscan.Valid(v) }

// unquoteBytes decodes a JSON string, or null as nil.
func unquoteBytes(raw []byte) []byte {
	if raw[0] != '"' {
		return nil
	}
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		return body
	}
	s, _ := jsonscan.Unquote(raw)
	return []byte(s)
}

// sub returns data[i:end], capped, or nil when end is -1.
func sub(data []byte, i, end int) []byte {
	if end < 0 {
		return nil
	}
	return data[i:end:end]
}

// scanned returns the error of an envelope that is not one whole JSON
// object (its scan ended at end, -1 if it failed) or has no message.
func scanned(data []byte, end int, message []byte) error {
	switch {
	case end < 0 || jsonscan.SkipSpace(data, end) != len(data):
		return fmt.Errorf("%w: not a JSON object", errEnvelope)
	case message == nil:
		return fmt.Errorf("%w: no message", errEnvelope)
	}
	return nil
}
