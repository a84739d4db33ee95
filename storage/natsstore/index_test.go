package natsstore_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/storage/natsstore"
)

// indexFailing fails the publishes on alarms subjects while fail is set.
type indexFailing struct {
	jetstream.JetStream
	fail atomic.Bool
}

func (f *indexFailing) PublishMsgAsync(m *nats.Msg, opts ...jetstream.PublishOpt) (jetstream.PubAckFuture, error) {
	if f.fail.Load() && strings.Contains(m.Subject, ".alarms.") {
		return nil, errors.New("injected failure")
	}
	return f.JetStream.PublishMsgAsync(m, opts...)
}

func TestStore_AlarmsIndexNotWritten_TheWriteStands_AndTheNextWriteRepairsTheIndex(t *testing.T) {
	js := &indexFailing{JetStream: jetStream(t, startNATS(t, t.TempDir()))}
	var logs bytes.Buffer
	s, err := natsstore.New(ctx(t), js, natsstore.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	write(t, s, zocket.Write{Actor: "timer", ID: "t", Snapshot: snapshot(1, `{}`)})

	js.fail.Store(true)
	write(t, s, zocket.Write{Actor: "timer", ID: "t", Expect: 1, Records: []zocket.Record{record(2)},
		SetAlarms: true, Alarms: []zocket.Alarm{{ID: 1, Method: "wake"}}})
	require.Contains(t, logs.String(), "alarms index not written")
	st, err := s.Load(ctx(t), "timer", "t")
	require.NoError(t, err)
	require.EqualValues(t, 2, st.Version)
	require.Len(t, st.Alarms, 1, "Load reads the alarms from the log")
	list, err := s.Alarms(ctx(t))
	require.NoError(t, err)
	require.Empty(t, list, "the index is stale")

	js.fail.Store(false)
	write(t, s, zocket.Write{Actor: "timer", ID: "t", Expect: 2, Records: []zocket.Record{record(3)}})
	list, err = s.Alarms(ctx(t))
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "wake", list[0].Alarms[0].Method)
}
