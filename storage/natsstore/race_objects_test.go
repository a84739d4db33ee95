package natsstore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/storage/natsstore"
)

func (h *hooked) CreateOrUpdateObjectStore(ctx context.Context, cfg jetstream.ObjectStoreConfig) (jetstream.ObjectStore, error) {
	obs, err := h.JetStream.CreateOrUpdateObjectStore(ctx, cfg)
	return &hookedObjects{ObjectStore: obs, h: h}, err
}

type hookedObjects struct {
	jetstream.ObjectStore
	h *hooked
}

func (o *hookedObjects) GetBytes(ctx context.Context, name string, opts ...jetstream.GetObjectOpt) ([]byte, error) {
	runOnce(&o.h.beforeGetObject)
	return o.ObjectStore.GetBytes(ctx, name, opts...)
}

func TestStore_Load_WhileAnotherProcessReplacesALargeSnapshot_ReturnsTheNewState(t *testing.T) {
	srv := startNATS(t, t.TempDir())
	small := natsstore.Options{MaxMessage: 100}
	writer, err := natsstore.New(ctx(t), jetStream(t, srv), small)
	require.NoError(t, err)
	state := func(fill string) *zocket.Snapshot {
		return snapshot(0, `"`+strings.Repeat(fill, 200)+`"`)
	}
	first := state("a")
	first.Version = 1
	write(t, writer, zocket.Write{Actor: "doc", ID: "d", Snapshot: first})

	js := &hooked{JetStream: jetStream(t, srv)}
	reader, err := natsstore.New(ctx(t), js, small)
	require.NoError(t, err)
	// The reader has seen the message referring to the first snapshot's
	// object when another process replaces it, deleting that object.
	second := state("b")
	second.Version = 2
	js.beforeGetObject = func() {
		write(t, writer, zocket.Write{Actor: "doc", ID: "d", Expect: 1, Snapshot: second})
	}
	st, err := reader.Load(ctx(t), "doc", "d")
	require.NoError(t, err)
	require.EqualValues(t, 2, st.Version)
	require.Equal(t, string(second.State), string(st.Snapshot.State))
}
