package natsstore

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/storage/internal/codec"
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
		b = codec.AppendBytes(b, []byte(m.ref.name))
		b = binary.AppendUvarint(b, m.ref.size)
		return append(b, m.ref.digest[:]...)
	}
	if m.snapshot != nil {
		b = binary.AppendUvarint(b, m.snapshot.Version)
		b = codec.AppendBytes(b, []byte(m.snapshot.Epoch))
		b = codec.AppendBytes(b, m.snapshot.State)
	}
	b = binary.AppendUvarint(b, uint64(len(m.records)))
	if len(m.records) > 0 {
		b = binary.AppendUvarint(b, m.records[0].Version)
		for _, r := range m.records {
			b = codec.AppendBytes(b, r.Patch)
		}
	}
	if m.hasAlarms {
		b = codec.AppendAlarms(b, m.alarms, optional)
	}
	if calls {
		if m.snapshot != nil {
			b = codec.AppendCalls(b, m.snapshot.Calls, optional)
		}
		for _, r := range m.records {
			b = codec.AppendCalls(b, r.Calls, optional)
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

func decodeLog(b []byte) (*logMsg, error) {
	if len(b) < 2 {
		return nil, codec.ErrShort
	}
	if b[0] != logFormat {
		return nil, fmt.Errorf("unknown format %d", b[0])
	}
	flags := b[1]
	d := codec.NewDecoder(b[2:])
	m := &logMsg{version: d.Uvarint(), hasAlarms: flags&flagAlarms != 0, tombstone: flags&flagTombstone != 0}
	if flags&flagRef != 0 {
		m.ref, m.rollup = &objectRef{name: string(d.Bytes()), size: d.Uvarint()}, flags&flagSnapshot != 0
		copy(m.ref.digest[:], d.Take(sha256.Size))
		return m, d.End()
	}
	if flags&flagSnapshot != 0 {
		m.snapshot = &zocket.Snapshot{Version: d.Uvarint(), Epoch: string(d.Bytes()), State: d.Bytes()}
	}
	if n := d.Count(); n > 0 {
		first := d.Uvarint()
		m.records = make([]zocket.Record, n)
		for i := range m.records {
			m.records[i] = zocket.Record{Version: first + uint64(i), Patch: d.Bytes()}
		}
	}
	if m.hasAlarms {
		m.alarms = d.Alarms(optional)
	}
	if flags&flagCalls != 0 {
		if m.snapshot != nil {
			m.snapshot.Calls = d.Calls(optional)
		}
		for i := range m.records {
			m.records[i].Calls = d.Calls(optional)
		}
	}
	if err := d.End(); err != nil {
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

// optional is the layout of the optional byte strings of log and alarms
// messages: an alarm's input, a call's result.
const optional = codec.LengthPlusOne

// decodeAlarms decodes the body of an alarms message: empty for none.
func decodeAlarms(b []byte) ([]zocket.Alarm, error) {
	if len(b) == 0 {
		return nil, nil
	}
	d := codec.NewDecoder(b)
	alarms := d.Alarms(optional)
	return alarms, d.End()
}
