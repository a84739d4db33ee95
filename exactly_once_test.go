package zocket_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/protocol"
	"github.com/zocket-go/zocket/storage/memstore"
	"github.com/zocket-go/zocket/zockettest"
)

// These tests play two runtimes of the distributed mode with two Apps on
// one Storage: a call that committed on the first is delivered again, by
// the same connection with the same rpc id, to the second.

type onceState struct {
	N    int    `json:"n"`
	Text string `json:"text"`
}

type onceCtx = zocket.Context[onceState, zocket.NoData]

// onceRuns counts how often each method of a onceState actor ran.
type onceRuns struct{ add, read, flushFail atomic.Int32 }

func onceApp(st zocket.Storage, runs *onceRuns, opts ...zocket.Option) *zocket.App {
	add := zocket.Method("add", func(c *onceCtx, text string) (int, error) {
		runs.add.Add(1)
		c.State.N++
		c.State.Text += text
		return c.State.N, nil
	})
	read := zocket.MethodNoInput("read", func(c *onceCtx) (int, error) {
		runs.read.Add(1)
		return c.State.N, nil
	})
	flushFail := zocket.MethodNoIO("flushFail", func(c *onceCtx) error {
		runs.flushFail.Add(1)
		c.State.N++
		c.Flush() // the first flush of a call always goes out: the change is written
		return zocket.PublicError(errors.New("failed after a flush"))
	}).Streaming(time.Hour)
	return zocket.NewApp(append(opts, zocket.WithStorage(st))...).
		Register("tally", zocket.NewActor[onceState]().Methods(add, read, flushFail))
}

// call sends an rpc with the given id on c and returns its answer.
func onceCall(t *testing.T, c *zockettest.Conn, id, method string, input any) zockettest.Frame {
	t.Helper()
	var in json.RawMessage
	if input != nil {
		var err error
		in, err = json.Marshal(input)
		require.NoError(t, err)
	}
	c.Write(string(protocol.AppendRPC(nil, json.RawMessage(strconv.Quote(id)), "tally", "t1", method, in)))
	for {
		if f := c.Next(); f.Type() == string(protocol.TypeRPCResult) && f["id"] == id {
			return f
		}
	}
}

func onceStateOf(t *testing.T, app *zocket.App) (onceState, uint64) {
	t.Helper()
	var s onceState
	raw, err := app.Invoke(context.Background(), "tally", "t1", "read", nil)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &s.N))
	for _, in := range app.Instances() {
		if in.Actor == "tally" && in.ID == "t1" {
			return s, in.Version
		}
	}
	t.Fatal("onceState/t1 is not live")
	return s, 0
}

// onceRunOnA runs fn on an App over st with a connection named connID, then
// closes the App, as a runtime that dies after the write.
func onceRunOnA(t *testing.T, st zocket.Storage, runs *onceRuns, connID string, fn func(c *zockettest.Conn),
	opts ...zocket.Option) {
	t.Helper()
	app := onceApp(st, runs, opts...)
	c := zockettest.NewServer(app, zockettest.Options{}).Connect(t, connID, zocket.Identity{})
	fn(c)
	c.Close()
	closeApp(t, app)
}

func onceOnB(t *testing.T, st zocket.Storage, runs *onceRuns, connID string, opts ...zocket.Option) (*zocket.App, *zockettest.Conn) {
	t.Helper()
	app := onceApp(st, runs, opts...)
	t.Cleanup(func() { closeApp(t, app) })
	return app, zockettest.NewServer(app, zockettest.Options{}).Connect(t, connID, zocket.Identity{})
}

func TestExactlyOnce_CallDeliveredAgainToAnotherAppIsAnsweredWithoutRunning(t *testing.T) {
	st := memstore.New()
	runs := &onceRuns{}
	var first zockettest.Frame
	onceRunOnA(t, st, runs, "client-1", func(c *zockettest.Conn) {
		onceCall(t, c, "r0", "add", "a")
		first = onceCall(t, c, "r1", "add", "b")
	})
	app, c := onceOnB(t, st, runs, "client-1")
	again := onceCall(t, c, "r1", "add", "b")
	require.Equal(t, first, again, "the same rpc:result")
	require.EqualValues(t, 2, runs.add.Load(), "the handler ran once per call")
	s, v := onceStateOf(t, app)
	require.Equal(t, 2, s.N, "the state changed once per call")
	require.EqualValues(t, 2, v, "the repeated call committed nothing")
}

func TestExactlyOnce_RepeatedCallOnTheSameAppIsAnsweredFromMemory(t *testing.T) {
	runs := &onceRuns{}
	app, c := onceOnB(t, memstore.New(), runs, "client-1")
	first := onceCall(t, c, "r1", "add", "a")
	require.Equal(t, first, onceCall(t, c, "r1", "add", "a"))
	require.EqualValues(t, 1, runs.add.Load())
	_, v := onceStateOf(t, app)
	require.EqualValues(t, 1, v)
}

func TestExactlyOnce_ErrorAfterWrittenChangesIsAnsweredAgainAsTheCallerGotIt(t *testing.T) {
	st := memstore.New()
	runs := &onceRuns{}
	var first zockettest.Frame
	var version uint64
	onceRunOnA(t, st, runs, "client-1", func(c *zockettest.Conn) {
		first = onceCall(t, c, "r1", "flushFail", nil)
	})
	stored, err := st.Load(context.Background(), "tally", "t1")
	require.NoError(t, err)
	version = stored.Version
	require.Equal(t, "failed after a flush", first["error"])

	app, c := onceOnB(t, st, runs, "client-1")
	require.Equal(t, first, onceCall(t, c, "r1", "flushFail", nil))
	require.EqualValues(t, 1, runs.flushFail.Load(), "the handler ran once")
	s, v := onceStateOf(t, app)
	require.Equal(t, 1, s.N, "the flushed change was made once")
	require.Equal(t, version, v)
}

func TestExactlyOnce_ReadOnlyCallRunsAgain(t *testing.T) {
	st := memstore.New()
	runs := &onceRuns{}
	onceRunOnA(t, st, runs, "client-1", func(c *zockettest.Conn) {
		onceCall(t, c, "r0", "add", "a")
		onceCall(t, c, "r1", "read", nil)
	})
	_, c := onceOnB(t, st, runs, "client-1")
	require.Equal(t, 1.0, onceCall(t, c, "r1", "read", nil)["result"])
	require.EqualValues(t, 2, runs.read.Load(), "a read-only call is not remembered: it runs again, harmlessly")
}

func TestExactlyOnce_SameRPCIDFromAnotherConnectionRuns(t *testing.T) {
	st := memstore.New()
	runs := &onceRuns{}
	onceRunOnA(t, st, runs, "client-1", func(c *zockettest.Conn) { onceCall(t, c, "r1", "add", "a") })
	app, c := onceOnB(t, st, runs, "client-2")
	require.Equal(t, 2.0, onceCall(t, c, "r1", "add", "a")["result"])
	require.EqualValues(t, 2, runs.add.Load())
	s, _ := onceStateOf(t, app)
	require.Equal(t, 2, s.N)
}

func TestExactlyOnce_OnlyTheLastCallsAreRemembered(t *testing.T) {
	st := memstore.New()
	runs := &onceRuns{}
	memory := zocket.WithCallMemory(2)
	onceRunOnA(t, st, runs, "client-1", func(c *zockettest.Conn) {
		for _, id := range []string{"r1", "r2", "r3"} {
			onceCall(t, c, id, "add", "a")
		}
	}, memory)
	_, c := onceOnB(t, st, runs, "client-1", memory)
	require.Equal(t, 3.0, onceCall(t, c, "r3", "add", "a")["result"], "remembered")
	require.Equal(t, 2.0, onceCall(t, c, "r2", "add", "a")["result"], "remembered")
	require.EqualValues(t, 3, runs.add.Load())
	require.Equal(t, 4.0, onceCall(t, c, "r1", "add", "a")["result"], "forgotten: runs again")
	require.EqualValues(t, 4, runs.add.Load())
}

func TestExactlyOnce_CallMemoryZeroRunsEveryDelivery(t *testing.T) {
	runs := &onceRuns{}
	_, c := onceOnB(t, memstore.New(), runs, "client-1", zocket.WithCallMemory(0))
	onceCall(t, c, "r1", "add", "a")
	require.Equal(t, 2.0, onceCall(t, c, "r1", "add", "a")["result"])
	require.EqualValues(t, 2, runs.add.Load())
}

func TestExactlyOnce_RememberedCallsSurviveCompaction(t *testing.T) {
	st := memstore.New()
	runs := &onceRuns{}
	var second zockettest.Frame
	onceRunOnA(t, st, runs, "client-1", func(c *zockettest.Conn) {
		onceCall(t, c, "r1", "add", "a")
		second = onceCall(t, c, "r2", "add", "b")
		// A patch this big outweighs the records: a snapshot replaces them.
		onceCall(t, c, "r3", "add", strings.Repeat("x", 20<<10))
	})
	stored, err := st.Load(context.Background(), "tally", "t1")
	require.NoError(t, err)
	require.NotNil(t, stored.Snapshot)
	require.EqualValues(t, 3, stored.Snapshot.Version, "compacted")
	require.Empty(t, stored.Records)

	_, c := onceOnB(t, st, runs, "client-1")
	require.Equal(t, second, onceCall(t, c, "r2", "add", "b"))
	require.EqualValues(t, 3, runs.add.Load())
}

func TestExactlyOnce_StoredRecordCarriesTheAnswer(t *testing.T) {
	st := memstore.New()
	runs := &onceRuns{}
	onceRunOnA(t, st, runs, "client-1", func(c *zockettest.Conn) {
		onceCall(t, c, "r1", "add", "a")
		onceCall(t, c, "r2", "add", "b")
	})
	stored, err := st.Load(context.Background(), "tally", "t1")
	require.NoError(t, err)
	require.Len(t, stored.Records, 1)
	require.Equal(t, []zocket.CallRecord{{Key: "client-1\x00\"r2\"", Result: json.RawMessage("2")}},
		stored.Records[0].Calls)
	require.Equal(t, []zocket.CallRecord{{Key: "client-1\x00\"r1\"", Result: json.RawMessage("1")}},
		stored.Snapshot.Calls, "the first write of an instance is a snapshot")
}

// Remembering a call costs its key (connection id and rpc id) and its
// encoded result in every record, nothing more.
func TestExactlyOnce_EachCallStoresItsKeyAndResult(t *testing.T) {
	const calls = 50
	perCall := func(opts ...zocket.Option) int {
		st := memstore.New()
		var bytes int
		onceRunOnA(t, st, &onceRuns{}, "zt-client-1", func(c *zockettest.Conn) {
			onceCall(t, c, "r0", "add", "") // the first write: a snapshot
			_, before := st.Stats()
			for i := range calls {
				onceCall(t, c, "r"+strconv.Itoa(i+1000), "add", "")
			}
			_, after := st.Stats()
			bytes = (after - before) / calls
		}, opts...)
		return bytes
	}
	without, with := perCall(zocket.WithCallMemory(0)), perCall()
	key := len("zt-client-1\x00\"r1000\"")
	t.Logf("bytes stored per call: %d without call memory, %d with (key %d bytes, result 1-2)", without, with, key)
	require.InDelta(t, key+2, with-without, 1, "the key and the result (2 to 51)")
}

// A call whose write failed was not stored: delivered again, it runs.
func TestExactlyOnce_CallWhoseWriteFailedRunsAgain(t *testing.T) {
	st := memstore.New()
	runs := &onceRuns{}
	app, c := onceOnB(t, st, runs, "client-1")
	onceCall(t, c, "r0", "add", "a")
	st.FailWrites(errors.New("disk full"))
	require.Equal(t, "State not saved: storage failed", onceCall(t, c, "r1", "add", "b")["error"])
	st.FailWrites(nil)
	require.Equal(t, 2.0, onceCall(t, c, "r1", "add", "b")["result"])
	require.EqualValues(t, 3, runs.add.Load())
	s, v := onceStateOf(t, app)
	require.Equal(t, 2, s.N)
	require.EqualValues(t, 2, v)
}
