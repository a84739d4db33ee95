package diskstore

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

// A record costs its own bytes on disk, whatever the size of the snapshot
// before it: the snapshot is written once, not again with each record.
func TestWrite_BytesWrittenPerRecordDoNotGrowWithTheSnapshot(t *testing.T) {
	s := openStore(t)
	big := append(append([]byte(`{"s":"`), bytes.Repeat([]byte("x"), 1<<20)...), `"}`...)
	writeOne(t, s, zocket.Write{Actor: "doc", ID: "big", Snapshot: &zocket.Snapshot{Version: 1, State: big}})

	patch := json.RawMessage(`[{"op":"replace","path":"/s","value":"` + string(bytes.Repeat([]byte("y"), 59)) + `"}]`)
	require.Len(t, patch, 100)
	const n = 100
	before := s.db.Metrics().WAL.BytesWritten
	for v := uint64(2); v < 2+n; v++ {
		writeOne(t, s, zocket.Write{Actor: "doc", ID: "big", Expect: v - 1, Records: []zocket.Record{{Version: v, Patch: patch}}})
	}
	perRecord := (s.db.Metrics().WAL.BytesWritten - before) / n
	t.Logf("%d bytes per record", perRecord)
	require.Less(t, perRecord, uint64(300), "bytes written per 100-byte record")
}
