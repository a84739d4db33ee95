package natsstore_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/storage/natsstore"
)

func streamState(t *testing.T, js jetstream.JetStream) jetstream.StreamState {
	t.Helper()
	stream, err := js.Stream(ctx(t), natsstore.DefaultStream)
	require.NoError(t, err)
	info, err := stream.Info(ctx(t))
	require.NoError(t, err)
	return info.State
}

func TestStore_BytesPerRecord_DoNotGrowWithTheSnapshot(t *testing.T) {
	js := jetStream(t, startNATS(t, t.TempDir()))
	s := open(t, js)
	big := json.RawMessage(`{"s":"` + strings.Repeat("x", 200_000) + `"}`)
	write(t, s, zocket.Write{Actor: "doc", ID: "d", Snapshot: &zocket.Snapshot{Version: 1, State: big}})
	before := streamState(t, js).Bytes

	const n = 20
	for v := uint64(2); v < 2+n; v++ {
		write(t, s, zocket.Write{Actor: "doc", ID: "d", Expect: v - 1, Records: []zocket.Record{record(v)}})
	}
	perRecord := (streamState(t, js).Bytes - before) / n
	require.Less(t, perRecord, uint64(300), "bytes stored per record of %d bytes", len(record(2).Patch))
}

func TestStore_Snapshot_DropsTheOlderMessagesOfItsInstanceOnly(t *testing.T) {
	js := jetStream(t, startNATS(t, t.TempDir()))
	s := open(t, js)
	write(t, s,
		zocket.Write{Actor: "doc", ID: "d", Snapshot: snapshot(1, `{}`)},
		zocket.Write{Actor: "doc", ID: "other", Snapshot: snapshot(1, `{}`)})
	for v := uint64(2); v <= 5; v++ {
		write(t, s, zocket.Write{Actor: "doc", ID: "d", Expect: v - 1, Records: []zocket.Record{record(v)}})
	}
	require.EqualValues(t, 6, streamState(t, js).Msgs)

	write(t, s, zocket.Write{Actor: "doc", ID: "d", Expect: 5, Snapshot: snapshot(6, `{"n":6}`)})
	require.EqualValues(t, 2, streamState(t, js).Msgs, "one message per instance")
	st, err := s.Load(ctx(t), "doc", "other")
	require.NoError(t, err)
	require.EqualValues(t, 1, st.Version)
}

func TestStore_Delete_LeavesNoMessage(t *testing.T) {
	js := jetStream(t, startNATS(t, t.TempDir()))
	s := open(t, js)
	write(t, s, zocket.Write{Actor: "doc", ID: "d", Snapshot: snapshot(1, `{}`), Records: []zocket.Record{record(2)},
		SetAlarms: true, Alarms: []zocket.Alarm{{ID: 1, Method: "m"}}})
	write(t, s, zocket.Write{Actor: "doc", ID: "d", Expect: 2, Delete: true})
	require.Zero(t, streamState(t, js).Msgs)
}

func TestStore_Snapshot_KeepsTheAlarmsSetBeforeIt(t *testing.T) {
	srv := startNATS(t, t.TempDir())
	s := open(t, jetStream(t, srv))
	alarms := []zocket.Alarm{{ID: 1, Method: "wake"}}
	write(t, s, zocket.Write{Actor: "doc", ID: "d", Snapshot: snapshot(1, `{}`), SetAlarms: true, Alarms: alarms})
	write(t, s, zocket.Write{Actor: "doc", ID: "d", Expect: 1, Records: []zocket.Record{record(2)}})
	write(t, s, zocket.Write{Actor: "doc", ID: "d", Expect: 2, Snapshot: snapshot(3, `{}`)})
	// Another process, which never loaded the instance, compacts it too.
	other := open(t, jetStream(t, srv))
	write(t, other, zocket.Write{Actor: "doc", ID: "d", Expect: 3, Snapshot: snapshot(4, `{}`)})

	for _, st := range []zocket.Storage{s, other} {
		got, err := st.Load(ctx(t), "doc", "d")
		require.NoError(t, err)
		require.EqualValues(t, 4, got.Version)
		require.Len(t, got.Alarms, 1)
		require.Equal(t, "wake", got.Alarms[0].Method)
	}
}

func TestStore_Alarms_LeavesNoConsumerBehind(t *testing.T) {
	js := jetStream(t, startNATS(t, t.TempDir()))
	s := open(t, js)
	write(t, s, zocket.Write{Actor: "timer", ID: "t", Snapshot: snapshot(1, `{}`),
		SetAlarms: true, Alarms: []zocket.Alarm{{ID: 1, Method: "m"}}})
	list, err := s.Alarms(ctx(t))
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Zero(t, streamState(t, js).Consumers)
}
