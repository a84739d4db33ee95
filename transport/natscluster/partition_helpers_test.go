package natscluster_test

import (
	"context"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/natsserver"
	"github.com/zocket-go/zocket/transport/natscluster"
)

// startPartitioned starts a partitioned runtime "rt1" for app on natsURL,
// with the shortest pin and membership TTLs, stopped (and app closed) when
// t ends.
func startPartitioned(t *testing.T, natsURL string, app *zocket.App, partitions int) *natscluster.Runtime {
	t.Helper()
	rt, err := natscluster.NewRuntime(connect(t, natsURL), app, natscluster.RuntimeOptions{Namespace: scope,
		Logger: testLogger(), Partitions: partitions, RuntimeID: "rt1", PinnedTTL: time.Second, MemberTTL: time.Second})
	require.NoError(t, err)
	require.NoError(t, rt.Start(t.Context()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rt.Stop(ctx)
		app.Close(ctx)
	})
	return rt
}

// restartableNATS is a NATS server that can be restarted on its port with
// its store.
type restartableNATS struct {
	*server.Server
	port int
	dir  string
}

func startRestartableNATS(t *testing.T) *restartableNATS {
	t.Helper()
	dir := t.TempDir()
	srv, err := natsserver.Start(natsserver.Options{StoreDir: dir})
	require.NoError(t, err)
	u, err := url.Parse(srv.ClientURL())
	require.NoError(t, err)
	port, _ := strconv.Atoi(u.Port())
	n := &restartableNATS{Server: srv, port: port, dir: dir}
	t.Cleanup(func() { n.Shutdown(); n.WaitForShutdown() })
	return n
}

// restart shuts the server down and starts it again.
func (n *restartableNATS) restart(t *testing.T) {
	t.Helper()
	n.Shutdown()
	n.WaitForShutdown()
	srv, err := natsserver.Start(natsserver.Options{Port: n.port, StoreDir: n.dir})
	require.NoError(t, err)
	n.Server = srv
}
