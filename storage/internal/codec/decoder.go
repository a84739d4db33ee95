package codec

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/zocket-go/zocket"
)

// Decoder reads what the Append functions wrote from a byte slice. After
// its first error it returns zero values and keeps that error. The byte
// strings it returns share the slice's memory; a length is checked
// against the bytes left before anything is sliced or allocated.
type Decoder struct {
	b   []byte
	err error
}

// NewDecoder returns a Decoder reading b.
func NewDecoder(b []byte) Decoder { return Decoder{b: b} }

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// End returns the first error met or, if bytes are left, an error that
// says how many.
func (d *Decoder) End() error {
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("%d bytes after the end", len(d.b))
	}
	return d.err
}

// fail records err unless an earlier error is kept.
func (d *Decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
	d.b = nil
}

// Uvarint reads a uvarint.
func (d *Decoder) Uvarint() uint64 { return readVarint(d, binary.Uvarint) }

// Varint reads a varint.
func (d *Decoder) Varint() int64 { return readVarint(d, binary.Varint) }

func readVarint[T uint64 | int64](d *Decoder, read func([]byte) (T, int)) T {
	if d.err != nil {
		return 0
	}
	v, n := read(d.b)
	if n <= 0 {
		d.fail(ErrShort)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// Take returns the next n bytes. Their capacity ends with them, so that
// appending to them never writes over what follows.
func (d *Decoder) Take(n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail(ErrShort)
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

// Bytes reads what AppendBytes wrote.
func (d *Decoder) Bytes() []byte { return d.Take(d.Uvarint()) }

// Optional reads what AppendOptional wrote in layout o: nil for nil.
func (d *Decoder) Optional(o Optional) []byte {
	if o == LengthPlusOne {
		if n := d.Uvarint(); n > 0 {
			return d.Take(n - 1)
		}
		return nil
	}
	switch p := d.Take(1); {
	case p == nil || p[0] == 0:
		return nil
	case p[0] == 1:
		return d.Bytes()
	default:
		d.fail(fmt.Errorf("presence byte %d", p[0]))
		return nil
	}
}

// Count reads the count of a list whose every item takes at least a
// byte: a count larger than the bytes left is an error, so that it never
// sizes an allocation.
func (d *Decoder) Count() uint64 {
	n := d.Uvarint()
	if n > uint64(len(d.b)) {
		d.fail(ErrShort)
		return 0
	}
	return n
}

// list reads a count then that many items with item; nil for none.
func list[T any](d *Decoder, item func(*T)) []T {
	n := d.Count()
	if n == 0 {
		return nil
	}
	out := make([]T, n)
	for i := range out {
		item(&out[i])
	}
	if d.err != nil {
		return nil
	}
	return out
}

// Alarms reads what AppendAlarms wrote in layout o; nil for none. An
// alarm's time is in UTC.
func (d *Decoder) Alarms(o Optional) []zocket.Alarm {
	return list(d, func(a *zocket.Alarm) {
		a.ID = d.Uvarint()
		sec, nsec := d.Varint(), d.Uvarint()
		if nsec >= uint64(time.Second) {
			d.fail(fmt.Errorf("alarm %d: %d nanoseconds", a.ID, nsec))
		}
		a.At = time.Unix(sec, int64(nsec)).UTC()
		a.Method = string(d.Bytes())
		a.Input = d.Optional(o)
	})
}

// Calls reads what AppendCalls wrote in layout o; nil for none.
func (d *Decoder) Calls(o Optional) []zocket.CallRecord {
	return list(d, func(c *zocket.CallRecord) {
		*c = zocket.CallRecord{Key: string(d.Bytes()), Result: d.Optional(o), Error: string(d.Bytes())}
	})
}
