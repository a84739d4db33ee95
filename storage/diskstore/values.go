package diskstore

import (
	"encoding/binary"
	"errors"
	"math"
	"time"

	"github.com/zocket-go/zocket"
)

// Values: a meta value is the instance's version (8 bytes, big-endian); a
// snapshot value is its version (8 bytes) then the state; a record value is
// the patch; an alarms value is a count then, per alarm, its ID, time
// (seconds and nanoseconds), method and input (a presence byte, then
// length-prefixed); a calls value is a count then, per call, its key,
// result (a presence byte, then length-prefixed) and error text.

var errShort = errors.New("value too short")

func encodeVersion(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func decodeVersion(b []byte) (uint64, error) {
	if len(b) != 8 {
		return 0, errors.New("version is not 8 bytes")
	}
	return binary.BigEndian.Uint64(b), nil
}

// A snapshot value is its version (8 bytes), its epoch (a uvarint length
// and the bytes), then the state.
func encodeSnapshot(s *zocket.Snapshot) []byte {
	b := binary.AppendUvarint(encodeVersion(s.Version), uint64(len(s.Epoch)))
	b = append(b, s.Epoch...)
	return append(b, s.State...)
}

func decodeSnapshot(b []byte) (*zocket.Snapshot, error) {
	if len(b) < 9 {
		return nil, errShort
	}
	n, k := binary.Uvarint(b[8:])
	if k <= 0 || n > uint64(len(b)-8-k) {
		return nil, errShort
	}
	epoch := b[8+k : 8+k+int(n)]
	return &zocket.Snapshot{Version: binary.BigEndian.Uint64(b), Epoch: string(epoch),
		State: append([]byte(nil), b[8+k+int(n):]...)}, nil
}

func encodeAlarms(as []zocket.Alarm) []byte {
	b := binary.AppendUvarint(nil, uint64(len(as)))
	for _, a := range as {
		b = binary.AppendUvarint(b, a.ID)
		b = binary.AppendVarint(b, a.At.Unix())
		b = binary.AppendUvarint(b, uint64(a.At.Nanosecond()))
		b = appendBytes(b, []byte(a.Method))
		b = appendOptional(b, a.Input)
	}
	return b
}

func encodeCalls(cs []zocket.CallRecord) []byte {
	b := binary.AppendUvarint(nil, uint64(len(cs)))
	for _, c := range cs {
		b = appendBytes(b, []byte(c.Key))
		b = appendOptional(b, c.Result)
		b = appendBytes(b, []byte(c.Error))
	}
	return b
}

func decodeCalls(b []byte) ([]zocket.CallRecord, error) {
	return decodeList(b, "call", func(d *decoder) zocket.CallRecord {
		return zocket.CallRecord{Key: string(d.bytes()), Result: d.optional(), Error: string(d.bytes())}
	})
}

func appendBytes(b, v []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

// appendOptional appends a presence byte (0 for nil) then, if present, v
// length-prefixed.
func appendOptional(b, v []byte) []byte {
	if v == nil {
		return append(b, 0)
	}
	return appendBytes(append(b, 1), v)
}

// decodeList reads a count then that many items with item; every item
// takes at least a byte, and nothing may follow the last.
func decodeList[T any](b []byte, what string, item func(*decoder) T) ([]T, error) {
	d := decoder{b: b}
	n := d.uvarint()
	if n > uint64(len(b)) {
		return nil, errors.New("bad " + what + " count")
	}
	out := make([]T, 0, n)
	for range n {
		out = append(out, item(&d))
	}
	if d.err == nil && len(d.b) > 0 {
		d.fail()
	}
	return out, d.err
}

func decodeAlarms(b []byte) ([]zocket.Alarm, error) {
	return decodeList(b, "alarm", func(d *decoder) zocket.Alarm {
		var a zocket.Alarm
		a.ID = d.uvarint()
		sec, nsec := d.varint(), d.uvarint()
		if nsec >= uint64(time.Second) {
			d.fail()
		}
		a.At = time.Unix(sec, int64(nsec)).UTC()
		a.Method = string(d.bytes())
		a.Input = d.optional()
		return a
	})
}

// decoder reads varints and byte strings, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errShort
	}
	d.b = nil
}

func (d *decoder) uvarint() uint64 { return readVarint(d, binary.Uvarint) }

func (d *decoder) varint() int64 { return readVarint(d, binary.Varint) }

func readVarint[T uint64 | int64](d *decoder, read func([]byte) (T, int)) T {
	v, n := read(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// optional reads what appendOptional wrote: nil for none, else a copy.
func (d *decoder) optional() []byte {
	switch d.byte() {
	case 0:
		return nil
	case 1:
		return append([]byte(nil), d.bytes()...)
	}
	d.fail()
	return nil
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if n > math.MaxInt || n > uint64(len(d.b)) {
		d.fail()
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}
