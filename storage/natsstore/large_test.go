package natsstore_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/storage/natsstore"
)

// bigState is a JSON state of about n bytes, different for each fill.
func bigState(n int, fill string) json.RawMessage {
	return json.RawMessage(`{"s":"` + strings.Repeat(fill, n/len(fill)) + `"}`)
}

// objectNames lists the objects of the default store's bucket.
func objectNames(t *testing.T, js jetstream.JetStream) []string {
	t.Helper()
	obs, err := js.ObjectStore(ctx(t), natsstore.DefaultStream+"_LARGE")
	require.NoError(t, err)
	list, err := obs.List(ctx(t))
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil
	}
	require.NoError(t, err)
	var names []string
	for _, o := range list {
		names = append(names, o.Name)
	}
	return names
}

func TestStore_StateLargerThanAMessage_IsStoredAndLoadedBackExactly(t *testing.T) {
	js := jetStream(t, startNATS(t, t.TempDir()))
	s := open(t, js)
	state := bigState(3<<20, "ab\\u00e9")
	write(t, s, zocket.Write{Actor: "room", ID: "big", Snapshot: &zocket.Snapshot{Version: 1, Epoch: "e", State: state}})

	st, err := open(t, js).Load(ctx(t), "room", "big")
	require.NoError(t, err)
	require.EqualValues(t, 1, st.Version)
	require.Equal(t, "e", st.Snapshot.Epoch)
	require.True(t, bytes.Equal(state, st.Snapshot.State), "the state comes back byte for byte")
	require.Len(t, objectNames(t, js), 1)
	require.Less(t, streamState(t, js).Bytes, uint64(1<<20), "the log holds a reference, not the state")
}

func TestStore_SmallRecordOnALargeState_IsStoredAndLoaded(t *testing.T) {
	js := jetStream(t, startNATS(t, t.TempDir()))
	s := open(t, js)
	state := bigState(3<<20, "x")
	write(t, s, zocket.Write{Actor: "room", ID: "big", Snapshot: &zocket.Snapshot{Version: 1, State: state}})
	write(t, s, zocket.Write{Actor: "room", ID: "big", Expect: 1, Records: []zocket.Record{record(2)}})

	st, err := open(t, js).Load(ctx(t), "room", "big")
	require.NoError(t, err)
	require.EqualValues(t, 2, st.Version)
	require.True(t, bytes.Equal(state, st.Snapshot.State))
	require.Equal(t, []zocket.Record{record(2)}, st.Records)
}

func TestStore_RecordsLargerThanAMessage_AreStoredInTheBucketToo(t *testing.T) {
	js := jetStream(t, startNATS(t, t.TempDir()))
	s := open(t, js)
	write(t, s, zocket.Write{Actor: "room", ID: "big", Snapshot: snapshot(1, `{}`)})
	patch := json.RawMessage(`[{"op":"add","path":"/s","value":"` + strings.Repeat("y", 2<<20) + `"}]`)
	write(t, s, zocket.Write{Actor: "room", ID: "big", Expect: 1, Records: []zocket.Record{{Version: 2, Patch: patch}, record(3)}})

	st, err := open(t, js).Load(ctx(t), "room", "big")
	require.NoError(t, err)
	require.EqualValues(t, 3, st.Version)
	require.Len(t, st.Records, 2)
	require.True(t, bytes.Equal(patch, st.Records[0].Patch))
	require.Len(t, objectNames(t, js), 1)
}

func TestStore_NewerLargeSnapshot_DeletesTheObjectOfTheOlder(t *testing.T) {
	js := jetStream(t, startNATS(t, t.TempDir()))
	s := open(t, js)
	write(t, s, zocket.Write{Actor: "room", ID: "big", Snapshot: &zocket.Snapshot{Version: 1, State: bigState(3<<20, "a")}})
	older := objectNames(t, js)
	require.Len(t, older, 1)

	newer := bigState(3<<20, "b")
	write(t, open(t, js), zocket.Write{Actor: "room", ID: "big", Expect: 1, Snapshot: &zocket.Snapshot{Version: 2, State: newer}})

	names := objectNames(t, js)
	require.Len(t, names, 1)
	require.NotEqual(t, older, names, "the older snapshot's object is gone")
	st, err := open(t, js).Load(ctx(t), "room", "big")
	require.NoError(t, err)
	require.True(t, bytes.Equal(newer, st.Snapshot.State))
}

func TestStore_SmallSnapshot_DeletesTheObjectsOfTheRecordsBefore(t *testing.T) {
	js := jetStream(t, startNATS(t, t.TempDir()))
	s, err := natsstore.New(ctx(t), js, natsstore.Options{MaxMessage: 200})
	require.NoError(t, err)
	big := zocket.Record{Version: 2, Patch: json.RawMessage(`"` + strings.Repeat("z", 300) + `"`)}
	write(t, s, zocket.Write{Actor: "room", ID: "a", Snapshot: snapshot(1, `{}`)},
		zocket.Write{Actor: "room", ID: "a", Expect: 1, Records: []zocket.Record{big}})
	require.Len(t, objectNames(t, js), 1)

	write(t, s, zocket.Write{Actor: "room", ID: "a", Expect: 2, Snapshot: snapshot(3, `{}`)})
	require.Empty(t, objectNames(t, js))
}

func TestStore_Delete_DeletesTheObjects(t *testing.T) {
	js := jetStream(t, startNATS(t, t.TempDir()))
	s := open(t, js)
	write(t, s, zocket.Write{Actor: "room", ID: "big", Snapshot: &zocket.Snapshot{Version: 1, State: bigState(3<<20, "a")}})

	write(t, open(t, js), zocket.Write{Actor: "room", ID: "big", Expect: 1, Delete: true})
	require.Empty(t, objectNames(t, js))
	st, err := s.Load(ctx(t), "room", "big")
	require.NoError(t, err)
	require.Zero(t, st.Version)
}

func TestStore_MissingObject_FailsLoadAndWriteWithErrCorrupt(t *testing.T) {
	js := jetStream(t, startNATS(t, t.TempDir()))
	write(t, open(t, js), zocket.Write{Actor: "room", ID: "big", Snapshot: &zocket.Snapshot{Version: 1, State: bigState(2<<20, "a")}})
	obs, err := js.ObjectStore(ctx(t), natsstore.DefaultStream+"_LARGE")
	require.NoError(t, err)
	require.NoError(t, obs.Delete(ctx(t), objectNames(t, js)[0]))

	s := open(t, js)
	_, err = s.Load(ctx(t), "room", "big")
	require.ErrorIs(t, err, natsstore.ErrCorrupt)
	require.ErrorContains(t, err, "room/big")
	errs := s.Write(ctx(t), []zocket.Write{{Actor: "room", ID: "big", Expect: 1, Records: []zocket.Record{record(2)}}})
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], natsstore.ErrCorrupt)
}

type list struct {
	Items []string `json:"items"`
}

type lc = zocket.Context[list, zocket.NoData]

func TestApp_WithAStateLargerThanAMessage_SurvivesARestart(t *testing.T) {
	js := jetStream(t, startNATS(t, t.TempDir()))
	seed := zocket.Method("seed", func(c *lc, n int) (int, error) {
		for i := range n {
			c.State.Items = append(c.State.Items, "item number "+strconv.Itoa(i))
		}
		return len(c.State.Items), nil
	})
	count := zocket.MethodNoInput("count", func(c *lc) (int, error) { return len(c.State.Items), nil })
	newApp := func() *zocket.App {
		return zocket.NewApp(zocket.WithStorage(open(t, js))).Register("list", zocket.NewActor[list]().Methods(seed, count))
	}

	app := newApp()
	n, err := seed.Invoke(ctx(t), app, "list", "a", 100_000)
	require.NoError(t, err)
	require.Equal(t, 100_000, n)
	require.NoError(t, app.Close(ctx(t)))

	app = newApp()
	t.Cleanup(func() { _ = app.Close(ctx(t)) })
	n, err = count.Invoke(ctx(t), app, "list", "a", zocket.None{})
	require.NoError(t, err)
	require.Equal(t, 100_000, n)
	n, err = seed.Invoke(ctx(t), app, "list", "a", 1)
	require.NoError(t, err)
	require.Equal(t, 100_001, n)
}

func TestStore_LargeWriteRefusedAsAConflict_LeavesNoObject(t *testing.T) {
	js := jetStream(t, startNATS(t, t.TempDir()))
	a, b := open(t, js), open(t, js)
	write(t, a, zocket.Write{Actor: "room", ID: "x", Snapshot: snapshot(1, `{}`)})
	_, err := b.Load(ctx(t), "room", "x")
	require.NoError(t, err)
	write(t, a, zocket.Write{Actor: "room", ID: "x", Expect: 1, Records: []zocket.Record{record(2)}})

	errs := b.Write(ctx(t), []zocket.Write{{Actor: "room", ID: "x", Expect: 1,
		Snapshot: &zocket.Snapshot{Version: 2, State: bigState(2<<20, "b")}}})
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], zocket.ErrConflict)
	require.Empty(t, objectNames(t, js))
}

func TestNew_CreatesTheBucketLikeTheStream_AndRefusesNamesItCannotHave(t *testing.T) {
	js := jetStream(t, startNATS(t, t.TempDir()))
	_, err := natsstore.New(ctx(t), js, natsstore.Options{Stream: "MEM", Storage: jetstream.MemoryStorage})
	require.NoError(t, err)
	obs, err := js.ObjectStore(ctx(t), "MEM_LARGE")
	require.NoError(t, err)
	status, err := obs.Status(ctx(t))
	require.NoError(t, err)
	require.Equal(t, jetstream.MemoryStorage, status.Storage())
	require.Equal(t, 1, status.Replicas())

	for name, o := range map[string]natsstore.Options{
		"stream with a $":      {Stream: "a$b"},
		"negative max message": {MaxMessage: -1},
	} {
		_, err := natsstore.New(ctx(t), js, o)
		require.ErrorIs(t, err, natsstore.ErrInvalidOptions, name)
	}
}
