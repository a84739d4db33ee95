package diskstore_test

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/storage/diskstore"
	"github.com/zocket-go/zocket/storage/storagetest"
)

func open(t *testing.T, dir string) *diskstore.Store {
	t.Helper()
	s, err := diskstore.Open(dir, diskstore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestStore_MeetsTheStorageContract(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) zocket.Storage { return open(t, t.TempDir()) })
}

func TestStore_KeepsEverythingAcrossCloseAndReopen(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	at := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	errs := s.Write(t.Context(), []zocket.Write{{Actor: "room", ID: "a",
		Snapshot:  &zocket.Snapshot{Version: 1, State: json.RawMessage(`{"n":1}`)},
		Records:   []zocket.Record{{Version: 2, Patch: json.RawMessage(`[{"op":"replace","path":"/n","value":2}]`)}},
		SetAlarms: true, Alarms: []zocket.Alarm{{ID: 7, At: at, Method: "wake", Input: json.RawMessage(`{"x":1}`)}}}})
	require.Nil(t, errs)
	require.NoError(t, s.Close())

	s = open(t, dir)
	st, err := s.Load(t.Context(), "room", "a")
	require.NoError(t, err)
	require.EqualValues(t, 2, st.Version)
	require.JSONEq(t, `{"n":1}`, string(st.Snapshot.State))
	require.Len(t, st.Records, 1)
	require.JSONEq(t, `[{"op":"replace","path":"/n","value":2}]`, string(st.Records[0].Patch))
	require.Len(t, st.Alarms, 1)
	require.True(t, at.Equal(st.Alarms[0].At))
	list, err := s.Alarms(t.Context())
	require.NoError(t, err)
	require.Len(t, list, 1)

	errs = s.Write(t.Context(), []zocket.Write{{Actor: "room", ID: "a", Expect: 1}})
	require.ErrorIs(t, errs[0], zocket.ErrConflict, "the version survives the reopen")
}

func TestStore_MethodsOfAClosedStoreReturnErrClosed(t *testing.T) {
	s := open(t, t.TempDir())
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "a second Close does nothing")

	errs := s.Write(t.Context(), []zocket.Write{{Actor: "room", ID: "a", Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{}`)}}})
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], diskstore.ErrClosed)
	_, err := s.Load(t.Context(), "room", "a")
	require.ErrorIs(t, err, diskstore.ErrClosed)
	_, err = s.Alarms(t.Context())
	require.ErrorIs(t, err, diskstore.ErrClosed)
}

func TestStore_WriteWithACanceledContextStoresNothing(t *testing.T) {
	s := open(t, t.TempDir())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	errs := s.Write(ctx, []zocket.Write{{Actor: "room", ID: "a", Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{}`)}}})
	require.ErrorIs(t, errs[0], context.Canceled)
	st, err := s.Load(t.Context(), "room", "a")
	require.NoError(t, err)
	require.Zero(t, st.Version)
}

func TestOpen_RefusesInvalidOptions(t *testing.T) {
	for _, o := range []diskstore.Options{{CacheSize: -1}, {MemTableSize: -1}, {MemTableSize: math.MaxUint32}} {
		_, err := diskstore.Open(t.TempDir(), o)
		require.ErrorIs(t, err, diskstore.ErrInvalidOptions, "%+v", o)
	}
	require.NoError(t, diskstore.Options{CacheSize: 1 << 20, MemTableSize: 1 << 20}.Validate())
}

func TestOpen_WithCacheAndMemTableSizesStoresAndLoads(t *testing.T) {
	s, err := diskstore.Open(t.TempDir(), diskstore.Options{CacheSize: 1 << 20, MemTableSize: 1 << 20})
	require.NoError(t, err)
	defer s.Close()
	require.Nil(t, s.Write(t.Context(), []zocket.Write{{Actor: "room", ID: "a", Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{}`)}}}))
	st, err := s.Load(t.Context(), "room", "a")
	require.NoError(t, err)
	require.EqualValues(t, 1, st.Version)
}
