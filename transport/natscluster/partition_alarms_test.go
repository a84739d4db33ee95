package natscluster_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/testsupport/poll"
	"github.com/zocket-go/zocket/storage/memstore"
)

// chimeApp is an App on st whose "chime" instances set an alarm with
// "set" (due after the given duration); the alarm's call sends the
// instance's id on rang.
func chimeApp(st zocket.Storage, rang chan<- string) (*zocket.App, *zocket.MethodDef[Ledger, zocket.NoData, time.Duration, zocket.AlarmID]) {
	ring := zocket.MethodNoResult("ring", func(c *zocket.Context[Ledger, zocket.NoData], _ string) error {
		rang <- c.ActorID
		return nil
	})
	set := zocket.Method("set", func(c *zocket.Context[Ledger, zocket.NoData], in time.Duration) (zocket.AlarmID, error) {
		return ring.At(c, time.Now().Add(in), "due"), nil
	})
	return zocket.NewApp(zocket.WithStorage(st)).Register("chime", zocket.NewActor[Ledger]().Methods(ring, set)), set
}

// A partitioned runtime that starts with stored alarms and receives no
// message at all still holds its partitions, so the alarms fire: nothing
// but a delivery makes the server pin a runtime, so the runtime publishes
// a claim message to each partition it starts pulling.
func TestPartitions_AStoredAlarmFiresWithoutAnyMessageToItsPartition(t *testing.T) {
	st := memstore.New()
	before, set := chimeApp(st, make(chan string, 1))
	_, err := set.Invoke(t.Context(), before, "chime", "c1", 2*time.Second)
	require.NoError(t, err)
	require.NoError(t, before.Close(t.Context()))

	rang := make(chan string, 1)
	app, _ := chimeApp(st, rang)
	rt := startPartitioned(t, startNATS(t).ClientURL(), app, 4)
	poll.Until(t, func() bool { return len(rt.HeldPartitions()) == 4 }, "the runtime holds every partition")

	select {
	case id := <-rang:
		require.Equal(t, "c1", id)
	case <-time.After(20 * time.Second):
		t.Fatal("the alarm never fired: its partition is held by nobody")
	}
}
