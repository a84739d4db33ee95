// Package jsonscan walks JSON text without decoding it: the shared scanner
// of the wire protocol's parser, of the input checks and of the cluster's
// envelopes. Its Skip functions and Cursor need text already known to be
// valid; SkipValid, SkipValidString and Valid check it.
package jsonscan

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// Unquote decodes the JSON string raw (quotes included) as encoding/json
// does; ok is false when raw is not a JSON string. A string without
// escapes costs one allocation, and none when it is empty.
func Unquote(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		return string(body), true
	}
	var s string // declared here: escaping, it costs an allocation
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// SkipSpace returns the index of the first non-space byte at or after i.
func SkipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// SkipString returns the index after the string starting at data[i] == '"'.
func SkipString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(data)
}

// SkipValue returns the index after the valid JSON value starting at i.
func SkipValue(data []byte, i int) int {
	if i >= len(data) {
		return i
	}
	switch data[i] {
	case '"':
		return SkipString(data, i)
	case '{', '[':
		depth := 0
		for ; i < len(data); i++ {
			switch data[i] {
			case '"':
				i = SkipString(data, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(data)
	}
	for ; i < len(data); i++ { // number or literal
		switch data[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return i
}

// Cursor walks the members of a JSON object, or the elements of a JSON
// array, that is valid JSON.
type Cursor struct {
	b []byte
	i int
}

// NewCursor returns a cursor over the object or array b.
func NewCursor(b []byte) Cursor { return Cursor{b: b, i: SkipSpace(b, 1)} }

// Next returns the next member's key, as it appears between its quotes,
// and value; or, when object is false, the next element. ok is false at
// the end.
func (c *Cursor) Next(object bool) (key, value []byte, ok bool) {
	b, i := c.b, c.i
	if i >= len(b) || b[i] == '}' || b[i] == ']' {
		return nil, nil, false
	}
	if object {
		end := SkipString(b, i)
		key = b[i+1 : end-1]
		i = SkipSpace(b, end)
		i = SkipSpace(b, i+1) // ':'
	}
	end := SkipValue(b, i)
	value = b[i:end]
	i = SkipSpace(b, end)
	if i < len(b) && b[i] == ',' {
		i = SkipSpace(b, i+1)
	}
	c.i = i
	return key, value, true
}
