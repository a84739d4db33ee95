package diskstore

import (
	"encoding/binary"
	"fmt"
)

// Every key starts with a kind byte; the instance (actor, id) follows as
// two length-prefixed strings, so that no instance's encoding is a prefix
// of another's whatever bytes the names hold (dots, slashes, NUL, empty).
// A prefix scan of one kind and instance therefore sees only that
// instance, and records, keyed by big-endian version, come in order.
// Each kind has its own key range: Alarms reads alarms only, and a
// record write never touches a snapshot.
const (
	kindFormat   = 0x00 // the store's format, one key
	kindMeta     = 'm'  // instance → version
	kindSnapshot = 's'  // instance → snapshot version + state
	kindRecord   = 'r'  // instance + version → patch
	kindAlarms   = 'a'  // instance → alarms
	// kindCalls: instance + version → the answers of calls (zocket.CallRecord)
	// of the record of that version, or of the snapshot at that version.
	// Stores written before calls were stored have none.
	kindCalls = 'c'
)

// formatKey holds formatVersion, the layout of this file and values.go.
var formatKey = []byte{kindFormat, 'f', 'o', 'r', 'm', 'a', 't'}

const formatVersion = 2

// instance is the encoded (actor, id) of one instance.
type instance []byte

func encodeInstance(actor, id string) instance {
	b := make([]byte, 0, 2*binary.MaxVarintLen64+len(actor)+len(id))
	b = binary.AppendUvarint(b, uint64(len(actor)))
	b = append(b, actor...)
	b = binary.AppendUvarint(b, uint64(len(id)))
	return append(b, id...)
}

// decodeInstance parses the instance at the start of b and returns what
// follows it.
func decodeInstance(b []byte) (actor, id string, rest []byte, err error) {
	actor, b, err = lengthPrefixed(b)
	if err != nil {
		return "", "", nil, err
	}
	id, b, err = lengthPrefixed(b)
	return actor, id, b, err
}

func lengthPrefixed(b []byte) (string, []byte, error) {
	n, size := binary.Uvarint(b)
	if size <= 0 || n > uint64(len(b)-size) {
		return "", nil, fmt.Errorf("bad length prefix")
	}
	b = b[size:]
	return string(b[:n]), b[n:], nil
}

func (in instance) key(kind byte) []byte {
	return append([]byte{kind}, in...)
}

func (in instance) recordKey(version uint64) []byte { return in.versionKey(kindRecord, version) }

func (in instance) callsKey(version uint64) []byte { return in.versionKey(kindCalls, version) }

// versionKey is the key of kind (records, calls) for version.
func (in instance) versionKey(kind byte, version uint64) []byte {
	return binary.BigEndian.AppendUint64(in.key(kind), version)
}

// below returns the bounds of in's keys of kind (records, calls) with
// versions below end.
func (in instance) below(kind byte, end uint64) (lower, upper []byte) {
	return in.versionKey(kind, 0), in.versionKey(kind, end)
}

// all returns the bounds of every key of kind (records, calls) of in.
func (in instance) all(kind byte) (lower, upper []byte) {
	p := in.key(kind)
	return p, prefixEnd(p)
}

// prefixEnd is the first key after every key starting with p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil // p is all 0xff: no upper bound
}
