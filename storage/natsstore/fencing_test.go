package natsstore_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

// Two processes: two Stores on two connections to one server.
func TestStore_TwoWritersOfOneInstance_TheLoserGetsAConflictAndNothingIsLost(t *testing.T) {
	srv := startNATS(t, t.TempDir())
	a, b := open(t, jetStream(t, srv)), open(t, jetStream(t, srv))
	write(t, a, zocket.Write{Actor: "room", ID: "r", Snapshot: snapshot(1, `{"n":1}`)})
	st, err := b.Load(ctx(t), "room", "r")
	require.NoError(t, err)
	require.EqualValues(t, 1, st.Version)

	// a moves on; b still believes version 1 is the last one, and only the
	// server can tell it otherwise.
	write(t, a, zocket.Write{Actor: "room", ID: "r", Expect: 1, Records: []zocket.Record{record(2)}})
	errs := b.Write(ctx(t), []zocket.Write{{Actor: "room", ID: "r", Expect: 1, Records: []zocket.Record{record(2)}}})
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], zocket.ErrConflict)

	// A losing snapshot must not roll up (purge) the winner's records.
	errs = b.Write(ctx(t), []zocket.Write{{Actor: "room", ID: "r", Expect: 1, Snapshot: snapshot(2, `{"lost":true}`)}})
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], zocket.ErrConflict)

	st, err = a.Load(ctx(t), "room", "r")
	require.NoError(t, err)
	require.EqualValues(t, 2, st.Version)
	require.JSONEq(t, `{"n":1}`, string(st.Snapshot.State))
	require.Len(t, st.Records, 1)

	// Once it has seen the latest version, b writes after a.
	write(t, b, zocket.Write{Actor: "room", ID: "r", Expect: 2, Records: []zocket.Record{record(3)}})
	errs = a.Write(ctx(t), []zocket.Write{{Actor: "room", ID: "r", Expect: 2, Records: []zocket.Record{record(3)}}})
	require.ErrorIs(t, errs[0], zocket.ErrConflict)
	st, err = a.Load(ctx(t), "room", "r")
	require.NoError(t, err)
	require.EqualValues(t, 3, st.Version)
}

func TestStore_WriteOfAnInstanceItNeverLoaded_ChecksTheStoredVersion(t *testing.T) {
	srv := startNATS(t, t.TempDir())
	a, b := open(t, jetStream(t, srv)), open(t, jetStream(t, srv))
	write(t, a, zocket.Write{Actor: "room", ID: "r", Snapshot: snapshot(1, `{}`), Records: []zocket.Record{record(2)}})

	errs := b.Write(ctx(t), []zocket.Write{{Actor: "room", ID: "r", Expect: 1, Records: []zocket.Record{record(2)}}})
	require.ErrorIs(t, errs[0], zocket.ErrConflict)
	write(t, b, zocket.Write{Actor: "room", ID: "r", Expect: 2, Records: []zocket.Record{record(3)}})

	st, err := a.Load(ctx(t), "room", "r")
	require.NoError(t, err)
	require.EqualValues(t, 3, st.Version)
}

func TestStore_DeleteByOneWriter_IsSeenByTheOther(t *testing.T) {
	srv := startNATS(t, t.TempDir())
	a, b := open(t, jetStream(t, srv)), open(t, jetStream(t, srv))
	write(t, a, zocket.Write{Actor: "room", ID: "r", Snapshot: snapshot(1, `{}`)})
	_, err := b.Load(ctx(t), "room", "r")
	require.NoError(t, err)
	write(t, a, zocket.Write{Actor: "room", ID: "r", Expect: 1, Delete: true})

	errs := b.Write(ctx(t), []zocket.Write{{Actor: "room", ID: "r", Expect: 1, Records: []zocket.Record{record(2)}}})
	require.ErrorIs(t, errs[0], zocket.ErrConflict, "a Write after a delete it did not see")
	write(t, b, zocket.Write{Actor: "room", ID: "r", Snapshot: snapshot(1, `{"new":true}`)})
	st, err := a.Load(ctx(t), "room", "r")
	require.NoError(t, err)
	require.JSONEq(t, `{"new":true}`, string(st.Snapshot.State))
}
