package natsstore

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/zocket-go/zocket"
)

// token encodes an actor or id as one subject token: '_' followed by
// its unpadded URL-safe base64. The encoding is injective, never yields
// '.', '*', '>' or white space, and gives the empty string a token too.
func token(s string) string { return "_" + base64.RawURLEncoding.EncodeToString([]byte(s)) }

// untoken is the inverse of token.
func untoken(t string) (string, error) {
	if len(t) == 0 || t[0] != '_' {
		return "", fmt.Errorf("subject token %q does not start with '_'", t)
	}
	b, err := base64.RawURLEncoding.DecodeString(t[1:])
	return string(b), err
}

// logFormat is the first byte of every log message, so that a later
// layout can be told apart.
const logFormat = 2

// Flags of a log message.
const (
	flagSnapshot  = 1 << iota // the message holds a snapshot (and rolls up the subject)
	flagAlarms                // the message holds the instance's alarms
	flagTombstone             // the instance was deleted
	flagRef                   // the bucket holds the Write, which the message refers to
	flagCalls                 // the message holds the answers of calls
)

// logMsg is the body of one message on an instance's log subject: one
// Write. Its layout, in order: the format byte, the flags byte, the
// instance's version after the Write (uvarint), then if flagSnapshot the
// snapshot's version, epoch and state, then the records as a count, the first
// record's version (versions are consecutive) and each patch, then if
// flagAlarms the alarm list, then if flagCalls the answers of calls: the
// snapshot's list, if there is a snapshot, then each record's list.
// Messages written before calls were stored have no flagCalls. Byte
// strings are a uvarint length then the bytes.
//
// A message with flagRef refers to a Write too large for a message: after
// the version come the name, size and SHA-256 digest of the object of the
// bucket whose contents are the Write's message, with the same flags but
// flagRef; the message keeps flagSnapshot, so that it rolls up the subject.
type logMsg struct {
	version   uint64
	snapshot  *zocket.Snapshot
	records   []zocket.Record
	alarms    []zocket.Alarm
	hasAlarms bool
	tombstone bool
	ref       *objectRef // the message refers to an object holding the Write
	rollup    bool       // with ref: the Write holds a snapshot
}

// refTo is the message that refers to the object ref holding m.
func refTo(m *logMsg, ref objectRef) *logMsg {
	return &logMsg{version: m.version, hasAlarms: m.hasAlarms, ref: &ref, rollup: m.snapshot != nil}
}

func (m *logMsg) encode() []byte {
	var flags byte
	if m.snapshot != nil || m.rollup {
		flags |= flagSnapshot
	}
	if m.ref != nil {
		flags |= flagRef
	}
	if m.hasAlarms {
		flags |= flagAlarms
	}
	if m.tombstone {
		flags |= flagTombstone
	}
	calls := m.ref == nil && m.hasCalls()
	if calls {
		flags |= flagCalls
	}
	b := []byte{logFormat, flags}
	b = binary.AppendUvarint(b, m.version)
	if m.ref != nil {
		b = appendBytes(b, []byte(m.ref.name))
		b = binary.AppendUvarint(b, m.ref.size)
		return append(b, m.ref.digest[:]...)
	}
	if m.snapshot != nil {
		b = binary.AppendUvarint(b, m.snapshot.Version)
		b = appendBytes(b, []byte(m.snapshot.Epoch))
		b = appendBytes(b, m.snapshot.State)
	}
	b = binary.AppendUvarint(b, uint64(len(m.records)))
	if len(m.records) > 0 {
		b = binary.AppendUvarint(b, m.records[0].Version)
		for _, r := range m.records {
			b = appendBytes(b, r.Patch)
		}
	}
	if m.hasAlarms {
		b = appendAlarms(b, m.alarms)
	}
	if calls {
		if m.snapshot != nil {
			b = appendCalls(b, m.snapshot.Calls)
		}
		for _, r := range m.records {
			b = appendCalls(b, r.Calls)
		}
	}
	return b
}

// hasCalls reports whether m's snapshot or records hold answers of calls.
func (m *logMsg) hasCalls() bool {
	if m.snapshot != nil && len(m.snapshot.Calls) > 0 {
		return true
	}
	for _, r := range m.records {
		if len(r.Calls) > 0 {
			return true
		}
	}
	return false
}

// appendCalls encodes the answers of calls: a count, then per call its
// key, result (length+1, 0 for none) and error text.
func appendCalls(b []byte, calls []zocket.CallRecord) []byte {
	b = binary.AppendUvarint(b, uint64(len(calls)))
	for _, c := range calls {
		b = appendBytes(b, []byte(c.Key))
		b = appendOptional(b, c.Result)
		b = appendBytes(b, []byte(c.Error))
	}
	return b
}

// appendOptional appends p as its length+1, 0 for nil, then its bytes.
func appendOptional(b, p []byte) []byte {
	if p == nil {
		return binary.AppendUvarint(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(p))+1)
	return append(b, p...)
}

// errShort is returned by the decoders when a message ends too early.
var errShort = errors.New("message too short")

func decodeLog(b []byte) (*logMsg, error) {
	if len(b) < 2 {
		return nil, errShort
	}
	if b[0] != logFormat {
		return nil, fmt.Errorf("unknown format %d", b[0])
	}
	flags := b[1]
	d := decoder{b: b[2:]}
	m := &logMsg{version: d.uvarint(), hasAlarms: flags&flagAlarms != 0, tombstone: flags&flagTombstone != 0}
	if flags&flagRef != 0 {
		m.ref, m.rollup = &objectRef{name: string(d.bytes()), size: d.uvarint()}, flags&flagSnapshot != 0
		copy(m.ref.digest[:], d.take(sha256.Size))
		return m, d.end()
	}
	if flags&flagSnapshot != 0 {
		m.snapshot = &zocket.Snapshot{Version: d.uvarint(), Epoch: string(d.bytes()), State: d.bytes()}
	}
	if n := d.uvarint(); n > 0 && d.err == nil {
		if n > uint64(len(d.b)) { // every record takes at least one byte
			return nil, errShort
		}
		first := d.uvarint()
		m.records = make([]zocket.Record, n)
		for i := range m.records {
			m.records[i] = zocket.Record{Version: first + uint64(i), Patch: d.bytes()}
		}
	}
	if m.hasAlarms {
		m.alarms = d.alarms()
	}
	if flags&flagCalls != 0 {
		if m.snapshot != nil {
			m.snapshot.Calls = d.calls()
		}
		for i := range m.records {
			m.records[i].Calls = d.calls()
		}
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	return m, m.check()
}

// check refuses a message whose version is not where its contents end.
func (m *logMsg) check() error {
	want := m.version
	switch {
	case m.tombstone:
		want = 0
	case len(m.records) > 0:
		want = m.records[len(m.records)-1].Version
	case m.snapshot != nil:
		want = m.snapshot.Version
	}
	if m.version != want {
		return fmt.Errorf("version %d, but the contents end at %d", m.version, want)
	}
	return nil
}

// appendAlarms encodes alarms: a count, then per alarm its id, time (Unix
// seconds as a varint and nanoseconds), method and input (length+1, 0 for
// none).
func appendAlarms(b []byte, alarms []zocket.Alarm) []byte {
	b = binary.AppendUvarint(b, uint64(len(alarms)))
	for _, a := range alarms {
		b = binary.AppendUvarint(b, a.ID)
		b = binary.AppendVarint(b, a.At.Unix())
		b = binary.AppendUvarint(b, uint64(a.At.Nanosecond()))
		b = appendBytes(b, []byte(a.Method))
		b = appendOptional(b, a.Input)
	}
	return b
}

// decodeAlarms decodes the body of an alarms message: empty for none.
func decodeAlarms(b []byte) ([]zocket.Alarm, error) {
	if len(b) == 0 {
		return nil, nil
	}
	d := decoder{b: b}
	alarms := d.alarms()
	return alarms, d.end()
}

func appendBytes(b, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// decoder reads what the append functions wrote; after the first error it
// returns zero values and keeps the error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

// take returns the next n bytes, sharing the message's memory.
func (d *decoder) take(n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errShort
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

// end returns the decoder's error, or an error if bytes are left.
func (d *decoder) end() error {
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("%d bytes after the end", len(d.b))
	}
	return d.err
}

func (d *decoder) bytes() []byte { return d.take(d.uvarint()) }

func (d *decoder) alarms() []zocket.Alarm {
	return list(d, func(a *zocket.Alarm) {
		a.ID = d.uvarint()
		sec, nsec := d.varint(), d.uvarint()
		if nsec >= uint64(time.Second) {
			d.err = fmt.Errorf("alarm %d: %d nanoseconds", a.ID, nsec)
		}
		a.At = time.Unix(sec, int64(nsec)).UTC()
		a.Method = string(d.bytes())
		a.Input = d.optional()
	})
}

// list reads a count then that many items with item; nil for none. Every
// item takes more than one byte.
func list[T any](d *decoder, item func(*T)) []T {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.err = errShort
	}
	if d.err != nil || n == 0 {
		return nil
	}
	out := make([]T, n)
	for i := range out {
		item(&out[i])
	}
	return out
}

// optional reads what appendOptional wrote.
func (d *decoder) optional() []byte {
	if n := d.uvarint(); n > 0 {
		return d.take(n - 1)
	}
	return nil
}

func (d *decoder) calls() []zocket.CallRecord {
	return list(d, func(c *zocket.CallRecord) {
		*c = zocket.CallRecord{Key: string(d.bytes()), Result: d.optional(), Error: string(d.bytes())}
	})
}
