// Package storagetest checks a zocket.Storage against the contract the App
// relies on: versions, atomic writes, conflicts, compaction, alarms, the
// answers of calls and deletion, with instance names that are hard to
// encode. Run it from the tests of an implementation:
//
//	func TestContract(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) zocket.Storage { return memstore.New() })
//	}
package storagetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

// Run runs every contract case as a subtest, each on a fresh Storage from
// open, closed when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) zocket.Storage) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s zocket.Storage)
	}{
		{"LoadOfUnknownInstanceIsEmpty", loadUnknown},
		{"RecordsComeBackInVersionOrder", recordsInOrder},
		{"SnapshotCompactsOlderRecords", snapshotCompacts},
		{"WrongExpectIsAConflictAndStoresNothing", conflict},
		{"ConflictFailsOnlyItsOwnWrite", conflictIsolated},
		{"VersionsMustFollowExpect", versionsFollow},
		{"ConcurrentWritersOfOneVersionHaveOneWinner", oneWinner},
		{"AlarmsAreStoredReplacedAndListed", alarms},
		{"AlarmsOnlyWriteKeepsTheVersion", alarmsOnly},
		{"SnapshotAtTheStoredVersionReplacesTheEpoch", snapshotSameVersion},
		{"DeleteForgetsEverything", deleteAll},
		{"NamesNeverCollide", namesNeverCollide},
		{"LargeSnapshotRoundTrips", largeSnapshot},
		{"WrittenBytesAreCopied", bytesCopied},
		{"ManyInstancesInOneBatch", manyInOneBatch},
		{"CallsRoundTripInRecordsAndSnapshots", callsRoundTrip},
		{"CallsSurviveCompaction", callsSurviveCompaction},
		{"DeleteForgetsCalls", deleteForgetsCalls},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { _ = s.Close() })
			c.fn(t, s)
		})
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func patch(v uint64) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`[{"op":"replace","path":"/n","value":%d}]`, v))
}

func records(from, to uint64) []zocket.Record {
	var rs []zocket.Record
	for v := from; v <= to; v++ {
		rs = append(rs, zocket.Record{Version: v, Patch: patch(v)})
	}
	return rs
}

func write(t *testing.T, s zocket.Storage, ws ...zocket.Write) {
	t.Helper()
	errs := s.Write(ctx(t), ws)
	require.Nil(t, errs, "Write: %v", errs)
}

func load(t *testing.T, s zocket.Storage, actor, id string) zocket.Stored {
	t.Helper()
	st, err := s.Load(ctx(t), actor, id)
	require.NoError(t, err)
	return st
}

func requireRecords(t *testing.T, want, got []zocket.Record) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		require.Equal(t, want[i].Version, got[i].Version)
		require.JSONEq(t, string(want[i].Patch), string(got[i].Patch))
	}
}

func loadUnknown(t *testing.T, s zocket.Storage) {
	st := load(t, s, "room", "nobody")
	require.Zero(t, st.Version)
	require.Nil(t, st.Snapshot)
	require.Empty(t, st.Records)
	require.Empty(t, st.Alarms)
}

func recordsInOrder(t *testing.T, s zocket.Storage) {
	snap := &zocket.Snapshot{Version: 1, State: json.RawMessage(`{"n":1}`), Epoch: "e-1"}
	write(t, s, zocket.Write{Actor: "room", ID: "a", Snapshot: snap})
	write(t, s, zocket.Write{Actor: "room", ID: "a", Expect: 1, Records: records(2, 3)})
	write(t, s, zocket.Write{Actor: "room", ID: "a", Expect: 3, Records: records(4, 12)})
	st := load(t, s, "room", "a")
	require.EqualValues(t, 12, st.Version)
	require.NotNil(t, st.Snapshot)
	require.EqualValues(t, 1, st.Snapshot.Version)
	require.Equal(t, "e-1", st.Snapshot.Epoch, "the epoch is kept with the snapshot")
	require.JSONEq(t, `{"n":1}`, string(st.Snapshot.State))
	requireRecords(t, records(2, 12), st.Records)
}

func snapshotCompacts(t *testing.T, s zocket.Storage) {
	write(t, s, zocket.Write{Actor: "doc", ID: "d", Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{"n":1}`)}})
	write(t, s, zocket.Write{Actor: "doc", ID: "d", Expect: 1, Records: records(2, 5)})
	write(t, s, zocket.Write{Actor: "doc", ID: "d", Expect: 5,
		Snapshot: &zocket.Snapshot{Version: 6, State: json.RawMessage(`{"n":6}`)}, Records: records(7, 8)})
	st := load(t, s, "doc", "d")
	require.EqualValues(t, 8, st.Version)
	require.NotNil(t, st.Snapshot)
	require.EqualValues(t, 6, st.Snapshot.Version)
	require.JSONEq(t, `{"n":6}`, string(st.Snapshot.State))
	requireRecords(t, records(7, 8), st.Records)
}

func conflict(t *testing.T, s zocket.Storage) {
	write(t, s, zocket.Write{Actor: "room", ID: "a", Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{}`)}})
	for _, expect := range []uint64{0, 2, 7} {
		errs := s.Write(ctx(t), []zocket.Write{{Actor: "room", ID: "a", Expect: expect, Records: records(expect+1, expect+1),
			SetAlarms: true, Alarms: []zocket.Alarm{{ID: 1, At: time.Unix(100, 0), Method: "m"}}}})
		require.Len(t, errs, 1)
		require.ErrorIs(t, errs[0], zocket.ErrConflict, "expect %d", expect)
	}
	st := load(t, s, "room", "a")
	require.EqualValues(t, 1, st.Version)
	require.Empty(t, st.Records)
	require.Empty(t, st.Alarms)
}

func conflictIsolated(t *testing.T, s zocket.Storage) {
	write(t, s, zocket.Write{Actor: "room", ID: "a", Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{}`)}})
	errs := s.Write(ctx(t), []zocket.Write{
		{Actor: "room", ID: "b", Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{"b":1}`)}},
		{Actor: "room", ID: "a", Expect: 5, Records: records(6, 6)},
		{Actor: "room", ID: "a", Expect: 1, Records: records(2, 2)},
	})
	require.Len(t, errs, 3)
	require.NoError(t, errs[0])
	require.ErrorIs(t, errs[1], zocket.ErrConflict)
	require.NoError(t, errs[2])
	require.EqualValues(t, 1, load(t, s, "room", "b").Version)
	require.EqualValues(t, 2, load(t, s, "room", "a").Version)
}

func versionsFollow(t *testing.T, s zocket.Storage) {
	write(t, s, zocket.Write{Actor: "room", ID: "a", Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{}`)}})
	bad := []zocket.Write{
		{Actor: "room", ID: "a", Expect: 1, Records: records(3, 3)},                                                // a gap
		{Actor: "room", ID: "a", Expect: 1, Records: []zocket.Record{{Version: 2, Patch: patch(2)}, {Version: 2}}}, // a repeat
		{Actor: "room", ID: "a", Expect: 1, Snapshot: &zocket.Snapshot{Version: 0, State: json.RawMessage(`{}`)}},  // backwards
	}
	for i, w := range bad {
		errs := s.Write(ctx(t), []zocket.Write{w})
		require.Len(t, errs, 1, "write %d", i)
		require.ErrorIs(t, errs[0], zocket.ErrInvalidWrite, "write %d", i)
	}
	require.EqualValues(t, 1, load(t, s, "room", "a").Version)
}

func oneWinner(t *testing.T, s zocket.Storage) {
	write(t, s, zocket.Write{Actor: "room", ID: "a", Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{}`)}})
	const writers = 8
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			r := zocket.Record{Version: 2, Patch: json.RawMessage(fmt.Sprintf(`[{"op":"replace","path":"/w","value":%d}]`, i))}
			if e := s.Write(ctx(t), []zocket.Write{{Actor: "room", ID: "a", Expect: 1, Records: []zocket.Record{r}}}); e != nil {
				errs[i] = e[0]
			}
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		if err == nil {
			require.Equal(t, -1, winner, "two writers of version 2 succeeded")
			winner = i
			continue
		}
		require.ErrorIs(t, err, zocket.ErrConflict)
	}
	require.NotEqual(t, -1, winner, "no writer succeeded")
	st := load(t, s, "room", "a")
	require.Len(t, st.Records, 1)
	require.JSONEq(t, fmt.Sprintf(`[{"op":"replace","path":"/w","value":%d}]`, winner), string(st.Records[0].Patch))
}

func alarms(t *testing.T, s zocket.Storage) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 6000, time.UTC)
	first := []zocket.Alarm{
		{ID: 1, At: at, Method: "wake", Input: json.RawMessage(`{"n":1}`)},
		{ID: 2, At: at.Add(time.Hour), Method: "tick"},
	}
	write(t, s, zocket.Write{Actor: "timer", ID: "t", Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{}`)},
		SetAlarms: true, Alarms: first})
	write(t, s, zocket.Write{Actor: "timer", ID: "quiet", Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{}`)}})
	got := load(t, s, "timer", "t").Alarms
	require.Len(t, got, 2)
	for i := range first {
		assert.Equal(t, first[i].ID, got[i].ID)
		assert.True(t, first[i].At.Equal(got[i].At), "alarm %d at %v, want %v", i, got[i].At, first[i].At)
		assert.Equal(t, first[i].Method, got[i].Method)
		if first[i].Input == nil {
			assert.Empty(t, got[i].Input)
		} else {
			assert.JSONEq(t, string(first[i].Input), string(got[i].Input))
		}
	}
	list, err := s.Alarms(ctx(t))
	require.NoError(t, err)
	require.Len(t, list, 1, "only instances with alarms are listed")
	require.Equal(t, "timer", list[0].Actor)
	require.Equal(t, "t", list[0].ID)
	require.Len(t, list[0].Alarms, 2)

	// A later write without SetAlarms keeps them; one with SetAlarms replaces them.
	write(t, s, zocket.Write{Actor: "timer", ID: "t", Expect: 1, Records: records(2, 2)})
	require.Len(t, load(t, s, "timer", "t").Alarms, 2)
	write(t, s, zocket.Write{Actor: "timer", ID: "t", Expect: 2, Records: records(3, 3), SetAlarms: true,
		Alarms: []zocket.Alarm{{ID: 3, At: at, Method: "wake"}}})
	got = load(t, s, "timer", "t").Alarms
	require.Len(t, got, 1)
	require.EqualValues(t, 3, got[0].ID)
	write(t, s, zocket.Write{Actor: "timer", ID: "t", Expect: 3, SetAlarms: true})
	require.Empty(t, load(t, s, "timer", "t").Alarms)
	list, err = s.Alarms(ctx(t))
	require.NoError(t, err)
	require.Empty(t, list)
}

func alarmsOnly(t *testing.T, s zocket.Storage) {
	write(t, s, zocket.Write{Actor: "timer", ID: "t", Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{}`)}})
	write(t, s, zocket.Write{Actor: "timer", ID: "t", Expect: 1, SetAlarms: true,
		Alarms: []zocket.Alarm{{ID: 1, At: time.Unix(1e9, 0), Method: "m"}}})
	st := load(t, s, "timer", "t")
	require.EqualValues(t, 1, st.Version)
	require.Len(t, st.Alarms, 1)
	write(t, s, zocket.Write{Actor: "timer", ID: "t", Expect: 1, Records: records(2, 2)})
	require.EqualValues(t, 2, load(t, s, "timer", "t").Version)
}

func snapshotSameVersion(t *testing.T, s zocket.Storage) {
	write(t, s, zocket.Write{Actor: "room", ID: "a", Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{}`), Epoch: "old"},
		Records: records(2, 3)})
	write(t, s, zocket.Write{Actor: "room", ID: "a", Expect: 3,
		Snapshot: &zocket.Snapshot{Version: 3, State: json.RawMessage(`{"n":3}`), Epoch: "new"}})
	st := load(t, s, "room", "a")
	require.EqualValues(t, 3, st.Version)
	require.NotNil(t, st.Snapshot)
	require.Equal(t, "new", st.Snapshot.Epoch)
	require.JSONEq(t, `{"n":3}`, string(st.Snapshot.State))
	require.Empty(t, st.Records)
}

func deleteAll(t *testing.T, s zocket.Storage) {
	write(t, s, zocket.Write{Actor: "room", ID: "a", Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{}`)},
		Records: records(2, 3), SetAlarms: true, Alarms: []zocket.Alarm{{ID: 1, At: time.Unix(1e9, 0), Method: "m"}}})
	errs := s.Write(ctx(t), []zocket.Write{{Actor: "room", ID: "a", Expect: 2, Delete: true}})
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], zocket.ErrConflict, "a delete checks Expect too")
	write(t, s, zocket.Write{Actor: "room", ID: "a", Expect: 3, Delete: true})
	st := load(t, s, "room", "a")
	require.Zero(t, st.Version)
	require.Nil(t, st.Snapshot)
	require.Empty(t, st.Records)
	require.Empty(t, st.Alarms)
	list, err := s.Alarms(ctx(t))
	require.NoError(t, err)
	require.Empty(t, list)
	// The instance starts again from version 0.
	write(t, s, zocket.Write{Actor: "room", ID: "a", Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{"again":true}`)}})
	require.JSONEq(t, `{"again":true}`, string(load(t, s, "room", "a").Snapshot.State))
}

// names are instance names that naive key or subject encodings confuse:
// separators, prefixes of each other, wildcards, spaces, non-ASCII.
var names = [][2]string{
	{"a", "b.c"}, {"a.b", "c"}, {"a", "b/c"}, {"a/b", "c"}, {"a", "1"}, {"a", "10"}, {"a1", "0"},
	{"x", "*"}, {"x", ">"}, {"x", "with space"}, {"x", "ünïcödé 🎲"}, {"x", ""}, {"x", "\x00nul"},
	{"x", "%2E"}, {"x", "."}, {"x", "_"}, {"x", "-"},
}

func namesNeverCollide(t *testing.T, s zocket.Storage) {
	var batch []zocket.Write
	for i, n := range names {
		batch = append(batch, zocket.Write{Actor: n[0], ID: n[1],
			Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))},
			Records:  records(2, uint64(2+i)), SetAlarms: true, Alarms: []zocket.Alarm{{ID: uint64(i + 1), At: time.Unix(1e9, 0), Method: "m"}}})
	}
	write(t, s, batch...)
	for i, n := range names {
		st := load(t, s, n[0], n[1])
		require.NotNil(t, st.Snapshot, "%q/%q", n[0], n[1])
		require.JSONEq(t, fmt.Sprintf(`{"i":%d}`, i), string(st.Snapshot.State), "%q/%q", n[0], n[1])
		require.EqualValues(t, 2+i, st.Version, "%q/%q", n[0], n[1])
		requireRecords(t, records(2, uint64(2+i)), st.Records)
		require.Len(t, st.Alarms, 1)
		require.EqualValues(t, i+1, st.Alarms[0].ID)
	}
	list, err := s.Alarms(ctx(t))
	require.NoError(t, err)
	require.Len(t, list, len(names))
	seen := map[[2]string]bool{}
	for _, ia := range list {
		seen[[2]string{ia.Actor, ia.ID}] = true
	}
	for _, n := range names {
		require.True(t, seen[n], "%q/%q missing from Alarms", n[0], n[1])
	}
}

func largeSnapshot(t *testing.T, s zocket.Storage) {
	var b bytes.Buffer
	b.WriteString(`{"items":[`)
	for i := range 40000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"item %06d"`, i)
	}
	b.WriteString(`]}`)
	write(t, s, zocket.Write{Actor: "doc", ID: "big", Snapshot: &zocket.Snapshot{Version: 1, State: b.Bytes()}})
	st := load(t, s, "doc", "big")
	require.NotNil(t, st.Snapshot)
	require.True(t, bytes.Equal(b.Bytes(), st.Snapshot.State), "snapshot of %d bytes changed", b.Len())
}

func bytesCopied(t *testing.T, s zocket.Storage) {
	state := []byte(`{"n":1}`)
	p := []byte(`[{"op":"replace","path":"/n","value":2}]`)
	write(t, s, zocket.Write{Actor: "room", ID: "a", Snapshot: &zocket.Snapshot{Version: 1, State: state},
		Records: []zocket.Record{{Version: 2, Patch: p}}})
	copy(state, `{"n":9}`)
	copy(p, `[{"op":"replace","path":"/n","value":9}]`)
	st := load(t, s, "room", "a")
	require.JSONEq(t, `{"n":1}`, string(st.Snapshot.State))
	require.JSONEq(t, `[{"op":"replace","path":"/n","value":2}]`, string(st.Records[0].Patch))
}

func manyInOneBatch(t *testing.T, s zocket.Storage) {
	var batch []zocket.Write
	for i := range 500 {
		batch = append(batch, zocket.Write{Actor: "room", ID: fmt.Sprint(i),
			Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))}})
	}
	write(t, s, batch...)
	for i := range batch {
		batch[i].Expect, batch[i].Snapshot = 1, nil
		batch[i].Records = records(2, 2)
	}
	write(t, s, batch...)
	for _, i := range []int{0, 250, 499} {
		st := load(t, s, "room", fmt.Sprint(i))
		require.EqualValues(t, 2, st.Version)
		require.JSONEq(t, fmt.Sprintf(`{"i":%d}`, i), string(st.Snapshot.State))
	}
}
