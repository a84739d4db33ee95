package natscluster_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/transport/natscluster"
)

func TestEnsureStreamsIsIdempotentAndReportsDrift(t *testing.T) {
	srv := startNATS(t)
	js, err := jetstream.New(connect(t, srv.ClientURL()))
	require.NoError(t, err)

	drifts, err := natscluster.EnsureStreams(t.Context(), js)
	require.NoError(t, err)
	assert.Empty(t, drifts)
	drifts, err = natscluster.EnsureStreams(t.Context(), js)
	require.NoError(t, err)
	assert.Empty(t, drifts, "a second call finds nothing to do")

	// Someone changed OUTBOUND's max age: fixed, and reported.
	s, err := js.Stream(t.Context(), natscluster.OutboundStream)
	require.NoError(t, err)
	cfg := s.CachedInfo().Config
	cfg.MaxAge = time.Hour
	_, err = js.UpdateStream(t.Context(), cfg)
	require.NoError(t, err)
	drifts, err = natscluster.EnsureStreams(t.Context(), js)
	require.NoError(t, err)
	require.Len(t, drifts, 1)
	assert.Equal(t, natscluster.Drift{Stream: "OUTBOUND", Field: "max_age", Live: "1h0m0s", Want: "30s", Fixed: true}, drifts[0])
	s, err = js.Stream(t.Context(), natscluster.OutboundStream)
	require.NoError(t, err)
	assert.Equal(t, 30*time.Second, s.CachedInfo().Config.MaxAge)

	// A stream made as TypeScript makes it (server default consumer
	// limit): reported, left as is.
	require.NoError(t, js.DeleteStream(t.Context(), natscluster.OutboundStream))
	_, err = js.CreateStream(t.Context(), jetstream.StreamConfig{Name: natscluster.OutboundStream, Subjects: []string{"outbound.>"}, Storage: jetstream.MemoryStorage, MaxAge: 30 * time.Second})
	require.NoError(t, err)
	drifts, err = natscluster.EnsureStreams(t.Context(), js)
	require.NoError(t, err)
	require.Len(t, drifts, 1)
	assert.Equal(t, "max_consumers", drifts[0].Field)
	assert.False(t, drifts[0].Fixed)
}

func TestSubjectTokens(t *testing.T) {
	for _, ok := range []string{"chat", "room-1", "a_b", "ünï"} {
		assert.NoError(t, natscluster.ValidToken("x", ok), ok)
	}
	for _, bad := range []string{"", "a.b", "a*", ">", "a b", "a\tb", "a\nb"} {
		assert.ErrorIs(t, natscluster.ValidToken("x", bad), natscluster.ErrInvalidToken, bad)
	}
	assert.NoError(t, natscluster.ValidActorID("a.b.c"))
	for _, bad := range []string{"", "a..b", ".a", "a.", "a b", "a.*"} {
		assert.ErrorIs(t, natscluster.ValidActorID(bad), natscluster.ErrInvalidToken, bad)
	}
	sc := natscluster.Namespace{WorkspaceID: "w", ProjectID: "p"}
	assert.Equal(t, "inbound.w.p.chat.room-1", natscluster.InboundSubject(sc, "chat", "room-1"))
	assert.Equal(t, "inbound.w.p.chat.>", natscluster.InboundFilter(sc, "chat"))
	assert.Equal(t, "outbound.w.p.s1", natscluster.OutboundSubject(sc, "s1"))
	assert.Equal(t, "session.disconnected.w.p", natscluster.DisconnectedSubject(sc))
	assert.Equal(t, "rt-w-p-chat", natscluster.ConsumerName(sc, "chat"))
}

// OUTBOUND holds more than nats-server's default 1,000 consumers: one per
// gateway session.
func TestOutboundTakesMoreThanAThousandConsumers(t *testing.T) {
	srv := startNATS(t)
	js, err := jetstream.New(connect(t, srv.ClientURL()))
	require.NoError(t, err)
	_, err = natscluster.EnsureStreams(t.Context(), js)
	require.NoError(t, err)
	for i := range 1001 {
		_, err := js.CreateConsumer(t.Context(), natscluster.OutboundStream, jetstream.ConsumerConfig{
			FilterSubject: natscluster.OutboundSubject(scope, fmt.Sprint("s", i)), AckPolicy: jetstream.AckNonePolicy, MemoryStorage: true})
		require.NoError(t, err, "consumer %d", i)
	}
}
