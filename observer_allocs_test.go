package zocket_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

// allocsPerDispatchedCall counts the allocations of one rpc from a
// connection, run inline on the caller's goroutine (Handler.Dispatch), so
// that no goroutine hand-off blurs the count.
func allocsPerDispatchedCall(t *testing.T, opts ...zocket.Option) float64 {
	t.Helper()
	app := bigApp(opts...)
	t.Cleanup(func() { _ = app.Close(context.Background()) })
	_, err := seedBig.Invoke(context.Background(), app, "big", "x", 4)
	require.NoError(t, err)
	h := zocket.NewHandler(app)
	c := discard{"caller"}
	h.Attach(c)
	frame := []byte(`{"type":"rpc","id":1,"actor":"big","actorId":"x","method":"touch","input":2}`)
	// Until the mailbox is idle, calls queue; the first call run inline
	// finds it idle, and leaves it idle.
	for run := h.Dispatch(c, frame); ; run = h.Dispatch(c, frame) {
		if run != nil {
			run()
			break
		}
	}
	return testing.AllocsPerRun(100, func() {
		run := h.Dispatch(c, frame)
		require.NotNil(t, run, "the instance is idle: the call runs inline")
		run()
	})
}

// callAllocsWithoutObserver is the allocation count of a dispatched call
// before observers existed: an App without one must not pay more.
const callAllocsWithoutObserver = 17

func TestCallWithoutObserver_AllocatesNoMoreThanBefore(t *testing.T) {
	got := allocsPerDispatchedCall(t)
	t.Logf("allocs per call: %v", got)
	assert.LessOrEqual(t, got, float64(callAllocsWithoutObserver))
}

func TestCallWithNopObserver_AllocatesNoMoreThanWithout(t *testing.T) {
	without := allocsPerDispatchedCall(t)
	with := allocsPerDispatchedCall(t, zocket.WithObserver(zocket.NopObserver{}))
	assert.Equal(t, without, with)
}
