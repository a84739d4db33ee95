package natsstore_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/natsserver"
	"github.com/zocket-go/zocket/storage/natsstore"
	"github.com/zocket-go/zocket/storage/storagetest"
)

// startNATS runs a NATS server keeping JetStream's files in dir.
func startNATS(t *testing.T, dir string) *server.Server {
	t.Helper()
	srv, err := natsserver.Start(natsserver.Options{StoreDir: dir})
	require.NoError(t, err)
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	return srv
}

// jetStream connects to srv; the connection closes when the test ends.
func jetStream(t *testing.T, srv *server.Server) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(srv.ClientURL())
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	return js
}

func open(t *testing.T, js jetstream.JetStream) *natsstore.Store {
	t.Helper()
	s, err := natsstore.New(ctx(t), js, natsstore.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func write(t *testing.T, s zocket.Storage, ws ...zocket.Write) {
	t.Helper()
	errs := s.Write(ctx(t), ws)
	require.Nil(t, errs, "Write: %v", errs)
}

func snapshot(v uint64, state string) *zocket.Snapshot {
	return &zocket.Snapshot{Version: v, State: json.RawMessage(state)}
}

func record(v uint64) zocket.Record {
	return zocket.Record{Version: v, Patch: json.RawMessage(`[{"op":"replace","path":"/n","value":1}]`)}
}

func TestStore_MeetsTheStorageContract(t *testing.T) {
	srv := startNATS(t, t.TempDir())
	js := jetStream(t, srv)
	n := 0
	storagetest.Run(t, func(t *testing.T) zocket.Storage {
		// A stream of its own per case, on the shared server.
		n++
		s, err := natsstore.New(ctx(t), js, natsstore.Options{
			Stream: "CONTRACT_" + string(rune('A'+n)), Prefix: "contract." + string(rune('a'+n)),
		})
		require.NoError(t, err)
		return s
	})
}

func TestStore_DataSurvivesANewStoreAndAServerRestart(t *testing.T) {
	dir := t.TempDir()
	srv := startNATS(t, dir)
	s := open(t, jetStream(t, srv))
	alarm := zocket.Alarm{ID: 7, At: time.Unix(2e9, 5), Method: "wake"}
	write(t, s, zocket.Write{Actor: "room", ID: "a", Snapshot: snapshot(1, `{"n":1}`), Records: []zocket.Record{record(2)},
		SetAlarms: true, Alarms: []zocket.Alarm{alarm}})
	require.NoError(t, s.Close())

	check := func(s *natsstore.Store) {
		t.Helper()
		st, err := s.Load(ctx(t), "room", "a")
		require.NoError(t, err)
		require.EqualValues(t, 2, st.Version)
		require.JSONEq(t, `{"n":1}`, string(st.Snapshot.State))
		require.Len(t, st.Records, 1)
		require.Len(t, st.Alarms, 1)
		require.True(t, alarm.At.Equal(st.Alarms[0].At))
		list, err := s.Alarms(ctx(t))
		require.NoError(t, err)
		require.Len(t, list, 1)
	}
	check(open(t, jetStream(t, srv)))

	srv.Shutdown()
	srv.WaitForShutdown()
	check(open(t, jetStream(t, startNATS(t, dir))))
}

func TestStore_UseAfterCloseFails(t *testing.T) {
	s := open(t, jetStream(t, startNATS(t, t.TempDir())))
	require.NoError(t, s.Close())
	_, err := s.Load(ctx(t), "room", "a")
	require.ErrorIs(t, err, natsstore.ErrClosed)
	_, err = s.Alarms(ctx(t))
	require.ErrorIs(t, err, natsstore.ErrClosed)
	errs := s.Write(ctx(t), []zocket.Write{{Actor: "room", ID: "a", Snapshot: snapshot(1, `{}`)}})
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], natsstore.ErrClosed)
}
