package inspector_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/inspector"
)

// calls gives rec n calls of counter.add, each taking d.
func calls(rec *inspector.Recorder, n int, d time.Duration) {
	for range n {
		rec.CallEnd(context.Background(), zocket.CallInfo{Actor: "counter", ActorID: "a", Method: "add"},
			zocket.CallEnd{Outcome: zocket.OutcomeOK, Duration: d})
	}
}

func TestRecorder_PercentilesAreTheUpperBoundsOfPowerOfTwoBuckets(t *testing.T) {
	rec := inspector.NewRecorder()
	calls(rec, 98, 3*time.Microsecond) // bucket [2µs, 4µs)
	calls(rec, 2, time.Millisecond)    // bucket [512µs, 1024µs): capped by the max
	m := rec.Methods()
	require.Len(t, m, 1)
	assert.Equal(t, uint64(100), m[0].Count)
	assert.Equal(t, 4*time.Microsecond, m[0].P50)
	assert.Equal(t, time.Millisecond, m[0].P99, "the 99th of 100 calls is a slow one; the bound is capped by the max")
	assert.Equal(t, time.Millisecond, m[0].Max)
	assert.Equal(t, (98*3*time.Microsecond+2*time.Millisecond)/100, m[0].Mean)

	calls(rec, 100, 3*time.Microsecond)
	assert.Equal(t, 4*time.Microsecond, rec.Methods()[0].P99, "2 slow calls in 200: the 99th percentile is fast")
}

func TestRecorder_CountsOutcomesAndKeepsTheLastCallOfEachInstance(t *testing.T) {
	rec := inspector.NewRecorder()
	ctx := context.Background()
	call := zocket.CallInfo{Actor: "counter", ActorID: "a", Method: "add"}
	rec.CallEnd(ctx, call, zocket.CallEnd{Outcome: zocket.OutcomeError, Duration: time.Second})
	rec.CallEnd(ctx, call, zocket.CallEnd{Outcome: zocket.OutcomePanic, Duration: 2 * time.Second})
	m := rec.Methods()
	require.Len(t, m, 1)
	assert.Equal(t, [3]uint64{2, 1, 1}, [3]uint64{m[0].Count, m[0].Errors, m[0].Panics})
	last, ok := rec.LastCall("counter", "a")
	require.True(t, ok)
	assert.Equal(t, inspector.LastCall{Method: "add", Outcome: "panic", Duration: 2 * time.Second}, last)
	_, ok = rec.LastCall("counter", "b")
	assert.False(t, ok)
}

func TestRecorder_CallsToUndeclaredMethodsShareOneEntry(t *testing.T) {
	s := serve(t)
	for _, method := range []string{"nosuch1", "nosuch2", "nosuch3"} {
		require.ErrorIs(t, s.invoke(t, "a", method, nil), zocket.ErrUnknownMethod)
	}
	m := s.rec.Methods()
	require.Len(t, m, 1, "invented names do not grow the Recorder")
	assert.Equal(t, inspector.UnknownMethod, m[0].Method)
	assert.Equal(t, uint64(3), m[0].Errors)
	last, _ := s.rec.LastCall("counter", "a")
	assert.Equal(t, inspector.UnknownMethod, last.Method)
}

func TestRecorder_RecordingAKnownMethodsCallDoesNotAllocate(t *testing.T) {
	rec := inspector.NewRecorder()
	calls(rec, 1, time.Microsecond) // the method's and the instance's entries exist
	allocs := testing.AllocsPerRun(100, func() { calls(rec, 1, time.Microsecond) })
	assert.Zero(t, allocs)
}
