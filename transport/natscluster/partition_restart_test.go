package natscluster_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/client"
	"github.com/zocket-go/zocket/internal/testsupport/poll"
	"github.com/zocket-go/zocket/transport/natscluster"
)

// A NATS restart loses the streams and the membership bucket when they
// live in memory (the default). A partitioned runtime creates them again
// (INBOUND with its partition transform, even where a gateway created it
// first without), with its partition consumers, and calls work again.
func TestPartitions_ARuntimeRecreatesItsStreamsAndBucketAfterANATSRestart(t *testing.T) {
	srv := startRestartableNATS(t)
	var gone atomic.Int64
	rt := startPartitioned(t, srv.ClientURL(), newApp(&gone), 2)
	_, wsURL := startGateway(t, srv.ClientURL(), member())
	cl, err := client.Dial(t.Context(), wsURL, client.Options{RPCTimeout: 2 * time.Second,
		ReconnectDelay: func(int) time.Duration { return 20 * time.Millisecond }})
	require.NoError(t, err)
	defer cl.Close()
	h := cl.Actor("room", "r1")
	_, err = client.Call(t.Context(), h, say, Text{Text: "before"})
	require.NoError(t, err)

	srv.restart(t)

	deadline := time.Now().Add(30 * time.Second)
	for { // calls fail while everything reconnects
		require.True(t, time.Now().Before(deadline), "calls never succeeded again")
		if _, err := client.Call(t.Context(), h, say, Text{Text: "after"}); err == nil {
			break
		}
	}
	poll.Until(t, func() bool { return len(rt.HeldPartitions()) > 0 }, "the runtime holds its partitions")
	js, err := jetstream.New(connect(t, srv.ClientURL()))
	require.NoError(t, err)
	poll.Until(t, func() bool {
		kv, err := js.KeyValue(t.Context(), natscluster.RuntimesBucket)
		if err != nil {
			return false
		}
		_, err = kv.Get(t.Context(), natscluster.MemberKey(scope, "rt1"))
		return err == nil
	}, "the runtime is listed in the membership bucket again")
}
