package diskstore

import (
	"bytes"
	"encoding/binary"
	"errors"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/storage/internal/codec"
)

// Values: a meta value is the instance's version (8 bytes, big-endian); a
// snapshot value is its version (8 bytes) then the state; a record value is
// the patch; an alarms value is a count then, per alarm, its ID, time
// (seconds and nanoseconds), method and input (a presence byte, then
// length-prefixed); a calls value is a count then, per call, its key,
// result (a presence byte, then length-prefixed) and error text.

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
		return nil, codec.ErrShort
	}
	n, k := binary.Uvarint(b[8:])
	if k <= 0 || n > uint64(len(b)-8-k) {
		return nil, codec.ErrShort
	}
	epoch := b[8+k : 8+k+int(n)]
	return &zocket.Snapshot{Version: binary.BigEndian.Uint64(b), Epoch: string(epoch),
		State: append([]byte(nil), b[8+k+int(n):]...)}, nil
}

// optional is the layout of the optional byte strings of alarms and
// calls values: an alarm's input, a call's result.
const optional = codec.PresenceByte

func encodeAlarms(as []zocket.Alarm) []byte { return codec.AppendAlarms(nil, as, optional) }

func encodeCalls(cs []zocket.CallRecord) []byte { return codec.AppendCalls(nil, cs, optional) }

// decodeAlarms decodes an alarms value. The alarms share no memory with b,
// which may be a value only valid until its iterator moves.
func decodeAlarms(b []byte) ([]zocket.Alarm, error) {
	d := codec.NewDecoder(bytes.Clone(b))
	as := d.Alarms(optional)
	return as, d.End()
}

// decodeCalls decodes a calls value, sharing no memory with b.
func decodeCalls(b []byte) ([]zocket.CallRecord, error) {
	d := codec.NewDecoder(bytes.Clone(b))
	cs := d.Calls(optional)
	return cs, d.End()
}
