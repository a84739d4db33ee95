package storagetest

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

// The answers of calls (zocket.CallRecord) travel with the records and
// snapshots that hold the calls' changes.

func callRecord(key, result, errText string) zocket.CallRecord {
	c := zocket.CallRecord{Key: key, Error: errText}
	if result != "" {
		c.Result = json.RawMessage(result)
	}
	return c
}

var (
	callA = callRecord("client-1\x00\"r1\"", `{"n":1,"s":"\u00e9\u0000"}`, "")
	callB = callRecord("client-1\x00\"r2\"", "", "")
	callC = callRecord("client-2\x00 7", "", "not your turn")
	callD = callRecord("\x00\x00", "[1,2,3]", "")
)

// requireCalls compares calls; a result of no bytes is none, nil or not.
func requireCalls(t *testing.T, want, got []zocket.CallRecord, msgAndArgs ...any) {
	t.Helper()
	require.Len(t, got, len(want), msgAndArgs...)
	for i := range want {
		require.Equal(t, want[i].Key, got[i].Key, msgAndArgs...)
		require.Equal(t, want[i].Error, got[i].Error, msgAndArgs...)
		require.Equal(t, string(want[i].Result), string(got[i].Result), msgAndArgs...)
	}
}

func withCalls(r zocket.Record, calls ...zocket.CallRecord) zocket.Record {
	r.Calls = calls
	return r
}

func callsRoundTrip(t *testing.T, s zocket.Storage) {
	result := append([]byte(nil), callA.Result...)
	a := callA
	a.Result = result
	rs := records(2, 4)
	rs[0] = withCalls(rs[0], callB)
	rs[2] = withCalls(rs[2], callC, callD)
	write(t, s, zocket.Write{Actor: "room", ID: "a",
		Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{}`), Calls: []zocket.CallRecord{a}}, Records: rs})
	copy(result, `{"n":9`) // the Storage keeps its own copy
	write(t, s, zocket.Write{Actor: "room", ID: "a", Expect: 4, Records: []zocket.Record{withCalls(records(5, 5)[0], callA)}})
	st := load(t, s, "room", "a")
	require.EqualValues(t, 5, st.Version)
	requireCalls(t, []zocket.CallRecord{callA}, st.Snapshot.Calls, "snapshot")
	require.Len(t, st.Records, 4)
	requireCalls(t, []zocket.CallRecord{callB}, st.Records[0].Calls, "record 2")
	requireCalls(t, nil, st.Records[1].Calls, "record 3")
	requireCalls(t, []zocket.CallRecord{callC, callD}, st.Records[2].Calls, "record 4")
	requireCalls(t, []zocket.CallRecord{callA}, st.Records[3].Calls, "record 5")
}

func callsSurviveCompaction(t *testing.T, s zocket.Storage) {
	write(t, s, zocket.Write{Actor: "doc", ID: "d",
		Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{}`), Calls: []zocket.CallRecord{callA}},
		Records:  []zocket.Record{withCalls(records(2, 2)[0], callB), withCalls(records(3, 3)[0], callC)}})
	// The snapshot replaces the records, and the record of its own version.
	write(t, s, zocket.Write{Actor: "doc", ID: "d", Expect: 3,
		Snapshot: &zocket.Snapshot{Version: 3, State: json.RawMessage(`{"n":3}`), Calls: []zocket.CallRecord{callB, callC}},
		Records:  []zocket.Record{withCalls(records(4, 4)[0], callD)}})
	st := load(t, s, "doc", "d")
	require.EqualValues(t, 4, st.Version)
	requireCalls(t, []zocket.CallRecord{callB, callC}, st.Snapshot.Calls, "snapshot")
	require.Len(t, st.Records, 1)
	requireCalls(t, []zocket.CallRecord{callD}, st.Records[0].Calls, "record 4")

	// A snapshot without calls forgets those of the records it replaces.
	write(t, s, zocket.Write{Actor: "doc", ID: "d", Expect: 4,
		Snapshot: &zocket.Snapshot{Version: 4, State: json.RawMessage(`{"n":4}`)}})
	st = load(t, s, "doc", "d")
	requireCalls(t, nil, st.Snapshot.Calls, "snapshot without calls")
	require.Empty(t, st.Records)
}

func deleteForgetsCalls(t *testing.T, s zocket.Storage) {
	write(t, s, zocket.Write{Actor: "room", ID: "a",
		Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{}`), Calls: []zocket.CallRecord{callA}},
		Records:  []zocket.Record{withCalls(records(2, 2)[0], callB)}})
	write(t, s, zocket.Write{Actor: "room", ID: "a", Expect: 2, Delete: true})
	write(t, s, zocket.Write{Actor: "room", ID: "a", Records: records(1, 2)})
	st := load(t, s, "room", "a")
	require.Nil(t, st.Snapshot)
	require.Len(t, st.Records, 2)
	for _, r := range st.Records {
		requireCalls(t, nil, r.Calls, "record %d after a delete", r.Version)
	}
}
