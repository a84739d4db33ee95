package diskstore

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

// The answer of a call costs its own bytes on disk, about its key and
// result, and nothing when a record has none.
func TestWrite_ACallCostsAboutItsKeyAndResultOnDisk(t *testing.T) {
	s := openStore(t)
	patch := json.RawMessage(`[{"op":"replace","path":"/n","value":12345}]`)
	call := zocket.CallRecord{Key: "zt-client-123456\x00\"r-42\"", Result: json.RawMessage(`12345`)}
	const n = 100
	perRecord := func(id string, calls []zocket.CallRecord) uint64 {
		writeOne(t, s, zocket.Write{Actor: "counter", ID: id, Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{}`)}})
		before := s.db.Metrics().WAL.BytesWritten
		for v := uint64(2); v < 2+n; v++ {
			writeOne(t, s, zocket.Write{Actor: "counter", ID: id, Expect: v - 1,
				Records: []zocket.Record{{Version: v, Patch: patch, Calls: calls}}})
		}
		return (s.db.Metrics().WAL.BytesWritten - before) / n
	}
	without := perRecord("plain", nil)
	with := perRecord("calls", []zocket.CallRecord{call})
	callBytes := len(call.Key) + len(call.Result)
	t.Logf("%d bytes per record without a call, %d with a call of %d bytes (key and result): %d more",
		without, with, callBytes, with-without)
	require.Less(t, with-without, uint64(callBytes+40), "a call's key (instance and version) and value framing")
}

func TestLoad_OfCorruptCallsFailsWithErrCorrupt(t *testing.T) {
	room := encodeInstance("room", "bad")
	cases := map[string][]byte{
		"value":            encodeCalls([]zocket.CallRecord{{Key: "k"}})[:2],
		"presence byte":    {1, 1, 'k', 7, 0},
		"after the record": nil, // a valid value at a version with no record
	}
	for name, value := range cases {
		t.Run(name, func(t *testing.T) {
			s := openStore(t)
			writeOne(t, s, zocket.Write{Actor: "room", ID: "bad",
				Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{}`)},
				Records:  []zocket.Record{{Version: 2, Patch: json.RawMessage(`[]`)}}})
			key := room.callsKey(2)
			if value == nil {
				key, value = room.callsKey(3), encodeCalls([]zocket.CallRecord{{Key: "k"}})
			}
			setRaw(t, s, key, value)
			_, err := s.Load(t.Context(), "room", "bad")
			require.ErrorIs(t, err, ErrCorrupt)
		})
	}
}
