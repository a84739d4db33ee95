package diskstore

import (
	"encoding/json"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

func openStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// setRaw stores value under the key of kind for (actor, id), past the
// Store's encoding, as a damaged disk or a bug would.
func setRaw(t *testing.T, s *Store, key, value []byte) {
	t.Helper()
	require.NoError(t, s.db.Set(key, value, pebble.Sync))
}

func writeOne(t *testing.T, s *Store, w zocket.Write) {
	t.Helper()
	require.Nil(t, s.Write(t.Context(), []zocket.Write{w}))
}

func TestLoad_OfACorruptValueFailsWithErrCorruptForThatInstanceOnly(t *testing.T) {
	room := encodeInstance("room", "bad")
	cases := map[string]func(t *testing.T, s *Store){
		"version":  func(t *testing.T, s *Store) { setRaw(t, s, room.key(kindMeta), []byte("garbage")) },
		"snapshot": func(t *testing.T, s *Store) { setRaw(t, s, room.key(kindSnapshot), []byte{1}) },
		"state": func(t *testing.T, s *Store) {
			setRaw(t, s, room.key(kindSnapshot), append(encodeVersion(1), "{not json"...))
		},
		"record":    func(t *testing.T, s *Store) { setRaw(t, s, room.recordKey(2), []byte("\xff")) },
		"missing":   func(t *testing.T, s *Store) { require.NoError(t, s.db.Delete(room.recordKey(2), pebble.Sync)) },
		"recordKey": func(t *testing.T, s *Store) { setRaw(t, s, append(room.recordKey(2), 0), []byte("[]")) },
		"alarms":    func(t *testing.T, s *Store) { setRaw(t, s, room.key(kindAlarms), []byte{5, 1}) },
	}
	for name, damage := range cases {
		t.Run(name, func(t *testing.T) {
			s := openStore(t)
			for _, id := range []string{"good", "bad"} {
				writeOne(t, s, zocket.Write{Actor: "room", ID: id,
					Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{}`)},
					Records:  []zocket.Record{{Version: 2, Patch: json.RawMessage(`[]`)}}})
			}
			damage(t, s)

			_, err := s.Load(t.Context(), "room", "bad")
			require.ErrorIs(t, err, ErrCorrupt)
			require.ErrorContains(t, err, `"room"/"bad"`)
			st, err := s.Load(t.Context(), "room", "good")
			require.NoError(t, err)
			require.EqualValues(t, 2, st.Version)
		})
	}
}

func TestWrite_OverACorruptVersionFailsAndLeavesTheValue(t *testing.T) {
	s := openStore(t)
	room := encodeInstance("room", "bad")
	setRaw(t, s, room.key(kindMeta), []byte("garbage"))

	errs := s.Write(t.Context(), []zocket.Write{
		{Actor: "room", ID: "bad", Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{}`)}},
		{Actor: "room", ID: "good", Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{}`)}},
	})
	require.Len(t, errs, 2)
	require.ErrorIs(t, errs[0], ErrCorrupt)
	require.NoError(t, errs[1])
	v, ok, err := get(s.db, room.key(kindMeta))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "garbage", string(v))
}

func TestAlarms_SkipsACorruptValueAndNamesIt(t *testing.T) {
	s := openStore(t)
	for _, id := range []string{"good", "bad"} {
		writeOne(t, s, zocket.Write{Actor: "timer", ID: id, Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{}`)},
			SetAlarms: true, Alarms: []zocket.Alarm{{ID: 1, Method: "m"}}})
	}
	setRaw(t, s, encodeInstance("timer", "bad").key(kindAlarms), []byte{9})

	list, err := s.Alarms(t.Context())
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, `"timer"/"bad"`)
	require.Len(t, list, 1)
	require.Equal(t, "good", list[0].ID)
}

func TestOpen_RefusesAStoreOfAnotherFormat(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	require.NoError(t, err)
	setRaw(t, s, formatKey, encodeVersion(formatVersion+1))
	require.NoError(t, s.Close())
	_, err = Open(dir, Options{})
	require.ErrorContains(t, err, "format")
}
