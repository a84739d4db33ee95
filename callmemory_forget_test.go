package zocket_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/storage/memstore"
)

// Forget erases what is stored of an instance, the answers of its calls
// included: they must not come back with its next write.
func TestExactlyOnce_ForgetErasesTheRememberedCalls(t *testing.T) {
	st := memstore.New()
	runs := &onceRuns{}
	app, c := onceOnB(t, st, runs, "client-1")
	onceCall(t, c, "r1", "add", "secret")
	require.NoError(t, app.Forget(context.Background(), "tally", "t1"))

	onceCall(t, c, "r2", "add", "b")
	stored, err := st.Load(context.Background(), "tally", "t1")
	require.NoError(t, err)
	require.NotNil(t, stored.Snapshot, "the first write after Forget is a snapshot")
	require.Equal(t, []zocket.CallRecord{{Key: "client-1\x00\"r2\"", Result: json.RawMessage("1")}},
		stored.Snapshot.Calls, "only the call made after Forget")

	onceCall(t, c, "r1", "add", "c")
	require.EqualValues(t, 3, runs.add.Load(), "a call id used before Forget runs again")
}
