// Package codec is the binary encoding that the stores share for what
// they persist: uvarints, length-prefixed byte strings, optional byte
// strings, and lists of alarms and of answers of calls, with a Decoder
// that checks every length against the bytes left.
//
// The stores lay out optional byte strings differently (see Optional);
// everything else is the same bytes in both.
package codec

import (
	"encoding/binary"
	"errors"

	"github.com/zocket-go/zocket"
)

// ErrShort is the error of a Decoder that needs more bytes than are left.
var ErrShort = errors.New("too short")

// Optional is the layout of an optional byte string, one that may be nil
// and then stays apart from an empty one.
type Optional uint8

const (
	// LengthPlusOne is a uvarint of the length plus one, 0 for nil, then
	// the bytes.
	LengthPlusOne Optional = iota
	// PresenceByte is a byte, 0 for nil and 1 otherwise, then if not nil
	// the length-prefixed bytes.
	PresenceByte
)

// AppendBytes appends p as a uvarint length then its bytes.
func AppendBytes(b, p []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(p))), p...)
}

// AppendOptional appends p, which may be nil, in layout o.
func AppendOptional(b, p []byte, o Optional) []byte {
	switch {
	case p == nil:
		return append(b, 0)
	case o == PresenceByte:
		return AppendBytes(append(b, 1), p)
	default:
		return append(binary.AppendUvarint(b, uint64(len(p))+1), p...)
	}
}

// AppendAlarms appends a count then, per alarm, its ID (uvarint), time
// (Unix seconds as a varint, then nanoseconds as a uvarint), method and
// input (optional, in layout o).
func AppendAlarms(b []byte, alarms []zocket.Alarm, o Optional) []byte {
	b = binary.AppendUvarint(b, uint64(len(alarms)))
	for _, a := range alarms {
		b = binary.AppendUvarint(b, a.ID)
		b = binary.AppendVarint(b, a.At.Unix())
		b = binary.AppendUvarint(b, uint64(a.At.Nanosecond()))
		b = AppendBytes(b, []byte(a.Method))
		b = AppendOptional(b, a.Input, o)
	}
	return b
}

// AppendCalls appends a count then, per answer of a call, its key, result
// (optional, in layout o) and error text.
func AppendCalls(b []byte, calls []zocket.CallRecord, o Optional) []byte {
	b = binary.AppendUvarint(b, uint64(len(calls)))
	for _, c := range calls {
		b = AppendBytes(b, []byte(c.Key))
		b = AppendOptional(b, c.Result, o)
		b = AppendBytes(b, []byte(c.Error))
	}
	return b
}
