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
// length-prefixed).

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
		if a.Input == nil {
			b = append(b, 0)
			continue
		}
		b = appendBytes(append(b, 1), a.Input)
	}
	return b
}

func appendBytes(b, v []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

func decodeAlarms(b []byte) ([]zocket.Alarm, error) {
	d := decoder{b: b}
	n := d.uvarint()
	if n > uint64(len(b)) { // every alarm takes at least a byte
		return nil, errors.New("bad alarm count")
	}
	as := make([]zocket.Alarm, 0, n)
	for range n {
		var a zocket.Alarm
		a.ID = d.uvarint()
		sec, nsec := d.varint(), d.uvarint()
		if nsec >= uint64(time.Second) {
			d.fail()
		}
		a.At = time.Unix(sec, int64(nsec)).UTC()
		a.Method = string(d.bytes())
		switch d.byte() {
		case 0:
		case 1:
			a.Input = append([]byte(nil), d.bytes()...)
		default:
			d.fail()
		}
		as = append(as, a)
	}
	if d.err == nil && len(d.b) > 0 {
		d.fail()
	}
	return as, d.err
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
