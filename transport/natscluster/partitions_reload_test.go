package natscluster

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/testsupport/poll"
	"github.com/zocket-go/zocket/storage/memstore"
)

// gatedAlarms is a Storage whose Alarms, once open is set, wait until it
// is closed, and count themselves.
type gatedAlarms struct {
	*memstore.Store
	calls atomic.Int64
	mu    sync.Mutex
	open  chan struct{}
}

func (s *gatedAlarms) Alarms(ctx context.Context) ([]zocket.InstanceAlarms, error) {
	s.calls.Add(1)
	s.mu.Lock()
	gate := s.open
	s.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return s.Store.Alarms(ctx)
}

// Taking many partitions at once reads the stored alarms once for all of
// them, not once per partition: the takes that come while a reload runs
// are covered by one more.
func TestPartitions_TakingManyPartitionsReloadsTheAlarmsOnceForAll(t *testing.T) {
	st := &gatedAlarms{Store: memstore.New()}
	app := zocket.NewApp(zocket.WithStorage(st))
	defer app.Close(context.Background())
	poll.Until(t, func() bool { return st.calls.Load() == 1 }, "the App's own first load")

	gate := make(chan struct{})
	st.mu.Lock()
	st.open = gate
	st.mu.Unlock()
	p := &partitions{r: &Runtime{app: app, opts: RuntimeOptions{Logger: slog.New(slog.DiscardHandler), MemberTTL: time.Minute}},
		count: 16, held: make([]atomic.Bool, 16), wake: make(chan struct{}, 1), taken: make(chan struct{}, 1), stop: make(chan struct{})}
	done := make(chan struct{})
	go func() { p.reloadAlarms(); close(done) }()

	p.claim(0)
	poll.Until(t, func() bool { return st.calls.Load() == 2 }, "a reload running")
	for n := 1; n < 16; n++ {
		p.claim(n)
	}
	close(gate)
	poll.Until(t, func() bool { return st.calls.Load() >= 3 }, "one more reload for the partitions taken meanwhile")
	close(p.stop)
	<-done
	require.Equal(t, int64(3), st.calls.Load(), "the App's load, the first reload, one for the fifteen partitions taken during it")
}
