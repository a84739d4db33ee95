package load_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/examples/bench/benchapp"
	"github.com/zocket-go/zocket/examples/loadgen/load"
	"github.com/zocket-go/zocket/internal/testsupport/wstest"
	"github.com/zocket-go/zocket/transport/wshttp"
)

// serveBench serves the benchmark actors in this process on a loopback
// port, as examples/bench does, and returns the server as a Target.
func serveBench(t *testing.T) load.Target {
	url := wstest.Serve(t, func(ctx context.Context, ln net.Listener, log *slog.Logger) error {
		return wshttp.Serve(ctx, ln, benchapp.NewApp(zocket.WithLogger(log)), wshttp.Options{Logger: log})
	})
	return load.Target{URL: url, PID: os.Getpid()}
}

// runScenario runs s and returns its result lines, decoded and as JSONL.
func runScenario(t *testing.T, s interface {
	Run(context.Context, func(load.Result)) error
}) ([]map[string]any, string) {
	t.Helper()
	var out bytes.Buffer
	require.NoError(t, s.Run(t.Context(), load.Output{W: &out, Label: "test"}.Emit))
	var rows []map[string]any
	for line := range strings.Lines(out.String()) {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		assert.Equal(t, "test", m["label"])
		rows = append(rows, m)
	}
	return rows, out.String()
}

// assertZero checks that each named figure of r is present and zero.
func assertZero(t *testing.T, r map[string]any, figures ...string) {
	t.Helper()
	for _, f := range figures {
		if assert.Contains(t, r, f) {
			assert.Equal(t, 0.0, r[f], f)
		}
	}
}

// assertHas checks that each named figure of r is present.
func assertHas(t *testing.T, r map[string]any, figures ...string) {
	t.Helper()
	for _, f := range figures {
		assert.Contains(t, r, f)
	}
}

func TestEveryScenario_RunsWithoutErrorsOrLosses_AndSummarizes(t *testing.T) {
	target := serveBench(t)
	var all strings.Builder
	run := func(name string, s interface {
		Run(context.Context, func(load.Result)) error
	}, check func(rows []map[string]any)) {
		t.Run(name, func(t *testing.T) {
			rows, jsonl := runScenario(t, s)
			all.WriteString(jsonl)
			check(rows)
		})
	}
	run("rtt", load.RTT{Target: target, N: 200, Warmup: 10, ID: "rtt"}, func(rows []map[string]any) {
		require.Len(t, rows, 1)
		assertZero(t, rows[0], "errors", "result_gaps")
		assertHas(t, rows[0], "ops_s", "p50_us", "p99_us", "p999_us", "server_cpu_pct", "loadgen_cpu_pct")
	})
	for _, same := range []bool{false, true} {
		s := load.Throughput{Target: target, Conns: 4, Window: 4, Duration: 100 * time.Millisecond, Same: same, HotID: "hot"}
		run("throughput", s, func(rows []map[string]any) {
			require.Len(t, rows, 1)
			assertZero(t, rows[0], "errors", "send_errors", "non_monotonic")
			if same {
				assertZero(t, rows[0], "duplicate_results")
			} else {
				assertZero(t, rows[0], "result_gaps")
			}
			assertHas(t, rows[0], "ops_s", "ops", "p50_us")
		})
	}
	for _, syncMode := range []bool{false, true} {
		s := load.Fanout{Target: target, Subs: 20, Sends: 10, Par: 5, Room: "room", Sync: syncMode, Timeout: time.Minute}
		run("fanout", s, func(rows []map[string]any) {
			require.Len(t, rows, 1)
			assertZero(t, rows[0], "patches_lost", "events_lost", "bad_msgs", "event_before_patch", "rpc_errors", "result_mismatch")
			assert.Equal(t, 200.0, rows[0]["patches_recv"])
			assertHas(t, rows[0], "last_p50_us", "last_p99_us", "first_p50_us", "rpc_p50_us", "msgs_per_s")
		})
	}
	run("bigstate", load.BigState{Target: target, Sizes: []int{10, 100}, Touches: 20, Appends: 5, ID: "b"}, func(rows []map[string]any) {
		require.Len(t, rows, 2)
		for i, n := range []float64{10, 100} {
			assert.Equal(t, n, rows[i]["n"])
			assertZero(t, rows[i], "errors", "sub_patches_lost")
			assertHas(t, rows[i], "p50_us", "append_p50_us", "sub_p50_us", "snapshot_bytes")
		}
	})
	run("idlemem", load.IdleMem{Target: target, K: 20, Actors: 3, Par: 5, Prewarm: 5}, func(rows []map[string]any) {
		require.Len(t, rows, 1)
		assert.Equal(t, 20.0, rows[0]["alive_at_end"])
		assertHas(t, rows[0], "rss_per_conn_kb", "rss_delta_mb", "idle_cpu_pct")
	})
	run("backpressure", load.Backpressure{Target: target, Seeds: 3, N: 100, ID: "bp"}, func(rows []map[string]any) {
		require.Len(t, rows, 1)
		assertZero(t, rows[0], "seed_errors")
		assert.Equal(t, true, rows[0]["sub_alive"])
		nothingLost := rows[0]["patches_recv"] == 3.0 || rows[0]["snapshots_recv"].(float64) >= 2
		assert.True(t, nothingLost, "every patch, or a fresh snapshot in their place: %v", rows[0])
	})

	var sum bytes.Buffer
	require.NoError(t, load.Summarize(&sum, []io.Reader{strings.NewReader(all.String())}, load.SummaryOptions{MaxOther: -1}))
	for _, row := range []string{
		"| label=test scenario=rtt n=200 | p50_us |",
		"| label=test scenario=throughput mode=per_actor conns=4 window=4 | ops_s |",
		"| label=test scenario=throughput mode=same_actor conns=4 window=4 | duplicate_results | 0 |",
		"| label=test scenario=fanout sync=false subs=20 | patches_lost | 0 |",
		"| label=test scenario=fanout sync=true subs=20 | last_p50_us |",
		"| label=test scenario=bigstate n=100 | sub_patches_lost | 0 |",
		"| label=test scenario=idlemem conns=20 | rss_per_conn_kb |",
	} {
		assert.Contains(t, sum.String(), row)
	}
}

func TestIdleMem_NeedsThePID(t *testing.T) {
	err := load.IdleMem{Target: load.Target{URL: "ws://127.0.0.1:1"}}.Run(t.Context(), func(load.Result) {})
	assert.ErrorIs(t, err, load.ErrNoPID)
}

func TestSummarize_ComparesLabels(t *testing.T) {
	in := `{"scenario":"rtt","n":10,"label":"a","p50_us":20}
{"scenario":"rtt","n":10,"label":"b","p50_us":30}
{"scenario":"rtt","n":10,"label":"b","p50_us":50}
not a result
`
	var out bytes.Buffer
	require.NoError(t, load.Summarize(&out, []io.Reader{strings.NewReader(in)}, load.SummaryOptions{MaxOther: -1}))
	assert.Contains(t, out.String(), "| label=b scenario=rtt n=10 | p50_us | 40 | 30 | 50 | 2 |")
	assert.Contains(t, out.String(), "| scenario=rtt n=10 | p50_us | 20 | 40 | b 2.00x |")
}
