package natsstore_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/storage/natsstore"
)

// subject is the stream subject of an instance, as the package doc
// describes it.
func subject(kind, actor, id string) string {
	tok := func(s string) string { return "_" + base64.RawURLEncoding.EncodeToString([]byte(s)) }
	return natsstore.DefaultPrefix + "." + kind + "." + tok(actor) + "." + tok(id)
}

func TestStore_UndecodableLog_FailsLoadAndWriteWithErrCorrupt_AndIsNotOverwritten(t *testing.T) {
	js := jetStream(t, startNATS(t, t.TempDir()))
	s := open(t, js)
	write(t, s, zocket.Write{Actor: "room", ID: "bad", Snapshot: snapshot(1, `{}`)})
	_, err := js.Publish(ctx(t), subject("log", "room", "bad"), []byte("garbage"))
	require.NoError(t, err)

	_, err = s.Load(ctx(t), "room", "bad")
	require.ErrorIs(t, err, natsstore.ErrCorrupt)
	require.ErrorContains(t, err, "room/bad")

	fresh := open(t, js)
	errs := fresh.Write(ctx(t), []zocket.Write{{Actor: "room", ID: "bad", Expect: 1, Snapshot: snapshot(2, `{}`)}})
	require.Len(t, errs, 1)
	require.ErrorIs(t, errs[0], natsstore.ErrCorrupt)
	_, err = fresh.Load(ctx(t), "room", "bad")
	require.ErrorIs(t, err, natsstore.ErrCorrupt, "the bad message is still there")
}

func TestStore_UndecodableAlarmsIndex_IsSkippedAndLogged(t *testing.T) {
	js := jetStream(t, startNATS(t, t.TempDir()))
	var logs bytes.Buffer
	s, err := natsstore.New(ctx(t), js, natsstore.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	write(t, s, zocket.Write{Actor: "room", ID: "good", Snapshot: snapshot(1, `{}`),
		SetAlarms: true, Alarms: []zocket.Alarm{{ID: 1, Method: "m"}}})
	_, err = js.Publish(ctx(t), subject("alarms", "room", "bad"), []byte{0xff})
	require.NoError(t, err)

	list, err := s.Alarms(ctx(t))
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "good", list[0].ID)
	require.Contains(t, logs.String(), "undecodable alarms index")
	require.Contains(t, logs.String(), subject("alarms", "room", "bad"))
}

func TestStore_WriteWithADoneContext_PublishesNothing(t *testing.T) {
	js := jetStream(t, startNATS(t, t.TempDir()))
	s := open(t, js)
	write(t, s, zocket.Write{Actor: "room", ID: "a", Snapshot: snapshot(1, `{}`)})
	c, cancel := context.WithCancel(context.Background())
	cancel()
	errs := s.Write(c, []zocket.Write{{Actor: "room", ID: "a", Expect: 1, Records: []zocket.Record{record(2)}}})
	require.ErrorIs(t, errs[0], context.Canceled)
	st, err := s.Load(ctx(t), "room", "a")
	require.NoError(t, err)
	require.EqualValues(t, 1, st.Version)
}

func TestStore_WithNATSDown_ReturnsErrors(t *testing.T) {
	srv := startNATS(t, t.TempDir())
	s := open(t, jetStream(t, srv))
	write(t, s, zocket.Write{Actor: "room", ID: "a", Snapshot: snapshot(1, `{}`)})
	srv.Shutdown()
	srv.WaitForShutdown()

	c, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	errs := s.Write(c, []zocket.Write{
		{Actor: "room", ID: "a", Expect: 1, Records: []zocket.Record{record(2)}}, // known: published, never acked
		{Actor: "room", ID: "b", Snapshot: snapshot(1, `{}`)},                    // unknown: its log cannot be read
	})
	require.Len(t, errs, 2)
	require.Error(t, errs[0])
	require.Error(t, errs[1])
	_, err := s.Load(c, "room", "a")
	require.Error(t, err)
	_, err = s.Alarms(c)
	require.Error(t, err)
}

func TestNew_RefusesInvalidOptions(t *testing.T) {
	js := jetStream(t, startNATS(t, t.TempDir()))
	for name, o := range map[string]natsstore.Options{
		"stream with a dot":    {Stream: "a.b"},
		"stream with a space":  {Stream: "a b"},
		"prefix with wildcard": {Prefix: "a.*"},
		"prefix ending in dot": {Prefix: "a."},
		"unknown storage":      {Storage: jetstream.StorageType(7)},
		"negative replicas":    {Replicas: -1},
		"six replicas":         {Replicas: 6},
		"negative max bytes":   {MaxBytes: -1},
		"negative timeout":     {Timeout: -time.Second},
		"negative cache":       {CachedInstances: -1},
	} {
		_, err := natsstore.New(ctx(t), js, o)
		require.ErrorIs(t, err, natsstore.ErrInvalidOptions, name)
	}
}

func TestNew_CreatesTheStreamWithDefaults(t *testing.T) {
	js := jetStream(t, startNATS(t, t.TempDir()))
	open(t, js)
	stream, err := js.Stream(ctx(t), natsstore.DefaultStream)
	require.NoError(t, err)
	cfg := stream.CachedInfo().Config
	require.Equal(t, []string{"zocket.state.log.>", "zocket.state.alarms.>"}, cfg.Subjects)
	require.Equal(t, jetstream.FileStorage, cfg.Storage)
	require.Equal(t, 1, cfg.Replicas)
	require.True(t, cfg.AllowRollup)
	require.True(t, cfg.AllowDirect)
	require.Equal(t, jetstream.DiscardNew, cfg.Discard, "a full stream must refuse writes, not drop state")

	// Opening it again (another process) keeps it.
	_, err = natsstore.New(ctx(t), js, natsstore.Options{Storage: jetstream.FileStorage})
	require.NoError(t, err)
}
