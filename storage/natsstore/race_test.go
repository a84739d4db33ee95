package natsstore_test

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

// hooked runs beforeGet (once) before the next GetMsg of the stream
// created through it, and beforeGetObject before the next object read
// from its bucket.
type hooked struct {
	jetstream.JetStream
	beforeGet, beforeGetObject func()
}

// runOnce calls *f, if any, and clears it.
func runOnce(f *func()) {
	if g := *f; g != nil {
		*f = nil
		g()
	}
}

func (h *hooked) CreateOrUpdateStream(ctx context.Context, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	st, err := h.JetStream.CreateOrUpdateStream(ctx, cfg)
	return &hookedStream{Stream: st, h: h}, err
}

type hookedStream struct {
	jetstream.Stream
	h *hooked
}

func (s *hookedStream) GetMsg(ctx context.Context, seq uint64, opts ...jetstream.GetMsgOpt) (*jetstream.RawStreamMsg, error) {
	runOnce(&s.h.beforeGet)
	return s.Stream.GetMsg(ctx, seq, opts...)
}

func TestStore_Load_WhileAnotherProcessCompactsTheLog_ReturnsTheNewState(t *testing.T) {
	srv := startNATS(t, t.TempDir())
	writer := open(t, jetStream(t, srv))
	write(t, writer, zocket.Write{Actor: "doc", ID: "d", Snapshot: snapshot(1, `{"n":1}`)})
	write(t, writer, zocket.Write{Actor: "doc", ID: "d", Expect: 1, Records: []zocket.Record{record(2)}})
	write(t, writer, zocket.Write{Actor: "doc", ID: "d", Expect: 2, Records: []zocket.Record{record(3)}})

	js := &hooked{JetStream: jetStream(t, srv)}
	reader := open(t, js)
	// The reader has seen the last message (version 3) when the log is
	// rolled up under it.
	js.beforeGet = func() {
		write(t, writer, zocket.Write{Actor: "doc", ID: "d", Expect: 3, Snapshot: snapshot(4, `{"n":4}`)})
	}
	st, err := reader.Load(ctx(t), "doc", "d")
	require.NoError(t, err)
	require.EqualValues(t, 4, st.Version)
	require.JSONEq(t, `{"n":4}`, string(st.Snapshot.State))
	require.Empty(t, st.Records)
}

func TestStore_Load_WhileAnotherProcessDeletesAndRecreates_ReturnsTheNewState(t *testing.T) {
	srv := startNATS(t, t.TempDir())
	writer := open(t, jetStream(t, srv))
	write(t, writer, zocket.Write{Actor: "doc", ID: "d", Snapshot: snapshot(1, `{"n":1}`)})
	write(t, writer, zocket.Write{Actor: "doc", ID: "d", Expect: 1, Records: []zocket.Record{record(2)}})

	js := &hooked{JetStream: jetStream(t, srv)}
	reader := open(t, js)
	js.beforeGet = func() {
		write(t, writer, zocket.Write{Actor: "doc", ID: "d", Expect: 2, Delete: true})
		write(t, writer, zocket.Write{Actor: "doc", ID: "d", Records: []zocket.Record{record(1)}})
	}
	st, err := reader.Load(ctx(t), "doc", "d")
	require.NoError(t, err)
	require.EqualValues(t, 1, st.Version)
	require.Nil(t, st.Snapshot)
	require.Len(t, st.Records, 1)
}
