package diskstore_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/storage/diskstore"
)

func rec(v uint64) zocket.Record {
	return zocket.Record{Version: v, Patch: json.RawMessage(fmt.Sprintf(`[{"op":"replace","path":"/n","value":%d}]`, v))}
}

func TestWrite_OfOneInstanceTwiceInABatchAppliesBothInOrder(t *testing.T) {
	s := open(t, t.TempDir())
	errs := s.Write(t.Context(), []zocket.Write{
		{Actor: "room", ID: "a", Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{"n":1}`)},
			Records: []zocket.Record{rec(2), rec(3)}},
		{Actor: "room", ID: "a", Expect: 3, Snapshot: &zocket.Snapshot{Version: 4, State: json.RawMessage(`{"n":4}`)},
			Records: []zocket.Record{rec(5)}},
		{Actor: "room", ID: "a", Expect: 3, Records: []zocket.Record{rec(4)}}, // stale after the second
	})
	require.Len(t, errs, 3)
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.ErrorIs(t, errs[2], zocket.ErrConflict)

	st, err := s.Load(t.Context(), "room", "a")
	require.NoError(t, err)
	require.EqualValues(t, 5, st.Version)
	require.JSONEq(t, `{"n":4}`, string(st.Snapshot.State))
	require.Len(t, st.Records, 1, "the snapshot dropped the records written before it in the batch")
	require.EqualValues(t, 5, st.Records[0].Version)
}

func TestWrite_AfterADeleteInTheSameBatchStartsFromZero(t *testing.T) {
	s := open(t, t.TempDir())
	require.Nil(t, s.Write(t.Context(), []zocket.Write{{Actor: "room", ID: "a",
		Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{"old":true}`)}, Records: []zocket.Record{rec(2)}}}))
	require.Nil(t, s.Write(t.Context(), []zocket.Write{
		{Actor: "room", ID: "a", Expect: 2, Delete: true},
		{Actor: "room", ID: "a", Expect: 0, Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{"new":true}`)}},
	}))
	st, err := s.Load(t.Context(), "room", "a")
	require.NoError(t, err)
	require.EqualValues(t, 1, st.Version)
	require.JSONEq(t, `{"new":true}`, string(st.Snapshot.State))
	require.Empty(t, st.Records)
}

func TestStore_CloseWhileLoadingAndWritingNeverPanics(t *testing.T) {
	s := open(t, t.TempDir())
	require.Nil(t, s.Write(t.Context(), []zocket.Write{{Actor: "room", ID: "a",
		Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{}`)}}}))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			<-start
			for range 50 {
				_, err := s.Load(t.Context(), "room", "a")
				if err != nil && !errors.Is(err, diskstore.ErrClosed) {
					t.Errorf("Load: %v", err)
				}
				errs := s.Write(t.Context(), []zocket.Write{{Actor: "room", ID: fmt.Sprint(i), SetAlarms: true}})
				if errs != nil && !errors.Is(errs[0], diskstore.ErrClosed) && !errors.Is(errs[0], zocket.ErrConflict) {
					t.Errorf("Write: %v", errs[0])
				}
			}
		})
	}
	close(start)
	require.NoError(t, s.Close())
	wg.Wait()
}

func TestLoad_ReturnsTheAlarmsOfAnInstanceAtVersionZero(t *testing.T) {
	s := open(t, t.TempDir())
	require.Nil(t, s.Write(t.Context(), []zocket.Write{{Actor: "timer", ID: "t", SetAlarms: true,
		Alarms: []zocket.Alarm{{ID: 1, Method: "wake"}}}}))
	st, err := s.Load(t.Context(), "timer", "t")
	require.NoError(t, err)
	require.Zero(t, st.Version)
	require.Len(t, st.Alarms, 1)
}
