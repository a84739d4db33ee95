package natsstore_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

// recording notes, in order, each publish and each wait for an ack.
type recording struct {
	jetstream.JetStream
	mu     sync.Mutex
	events []string
}

func (r *recording) note(e string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recording) PublishMsgAsync(m *nats.Msg, opts ...jetstream.PublishOpt) (jetstream.PubAckFuture, error) {
	r.note("publish")
	f, err := r.JetStream.PublishMsgAsync(m, opts...)
	if err != nil {
		return nil, err
	}
	return &recordingFuture{PubAckFuture: f, r: r}, nil
}

type recordingFuture struct {
	jetstream.PubAckFuture
	r *recording
}

func (f *recordingFuture) Ok() <-chan *jetstream.PubAck {
	f.r.note("wait")
	return f.PubAckFuture.Ok()
}

func TestStore_Write_PublishesTheWholeBatchBeforeWaitingForAcks(t *testing.T) {
	srv := startNATS(t, t.TempDir())
	js := &recording{JetStream: jetStream(t, srv)}
	s := open(t, js)
	var batch []zocket.Write
	for i := range 64 {
		batch = append(batch, zocket.Write{Actor: "room", ID: fmt.Sprint(i), Snapshot: snapshot(1, `{}`)})
	}
	write(t, s, batch...)
	js.mu.Lock()
	defer js.mu.Unlock()
	first := slices.Index(js.events, "wait")
	require.Equal(t, 64, first, "publishes before the first wait")
}

func TestStore_Write_OfOneInstanceTwiceInABatch_StoresBothInOrder(t *testing.T) {
	s := open(t, jetStream(t, startNATS(t, t.TempDir())))
	write(t, s,
		zocket.Write{Actor: "room", ID: "a", Snapshot: snapshot(1, `{}`)},
		zocket.Write{Actor: "room", ID: "b", Snapshot: snapshot(1, `{}`)},
		zocket.Write{Actor: "room", ID: "a", Expect: 1, Records: []zocket.Record{record(2)}},
		zocket.Write{Actor: "room", ID: "a", Expect: 2, Records: []zocket.Record{record(3)}})
	st, err := s.Load(ctx(t), "room", "a")
	require.NoError(t, err)
	require.EqualValues(t, 3, st.Version)
	require.Len(t, st.Records, 2)
}
