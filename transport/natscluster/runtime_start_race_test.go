package natscluster_test

import (
	"context"
	"io"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/transport/natscluster"
)

// /health and HeldPartitions may be asked while a partitioned runtime
// starts (the health endpoint is usually served first): they read the
// runtime's partitions under its lock, so Start must set them under it too
// (the race detector checks).
func TestRuntime_HealthDuringAPartitionedStartIsSafe(t *testing.T) {
	var gone atomic.Int64
	app := newApp(&gone)
	rt, err := natscluster.NewRuntime(connect(t, startNATS(t).ClientURL()), app, natscluster.RuntimeOptions{Namespace: scope,
		Logger: testLogger(), Partitions: 8, RuntimeID: "rt1", PinnedTTL: time.Second, MemberTTL: time.Second})
	require.NoError(t, err)
	started, asked := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(asked)
		for {
			rec := httptest.NewRecorder()
			rt.HealthHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/health", nil))
			io.Copy(io.Discard, rec.Body)
			rt.HeldPartitions()
			select {
			case <-started:
				return
			default:
			}
		}
	}()
	require.NoError(t, rt.Start(t.Context()))
	close(started)
	<-asked
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, rt.Stop(ctx))
	require.NoError(t, app.Close(ctx))
}
