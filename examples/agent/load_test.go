//go:build unix

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zocket-go/zocket/internal/testsupport/wstest"
)

// BenchmarkAgent_EndToEnd streams one answer into one conversation of the
// agent example, served over WebSocket on loopback, while subscribers in
// another process watch the conversation's state (the caller asking for
// the answer is in that process too): a model emitting
// AGENT_LOAD_RATE deltas per second (default 1000) for AGENT_LOAD_SECONDS
// (default 3) to AGENT_LOAD_SUBS subscribers (default 100), into a
// conversation already holding 10, then 1,000 earlier messages. Run it
// alone, once:
//
//	go test ./examples/agent -run '^$' -bench EndToEnd -benchtime 1x
//
// It reports the deltas per second achieved, the server's CPU time and
// allocations per delta, the patch frames and bytes a subscriber receives
// per delta, and the time from a delta's emission to the last subscriber
// seeing it (p50, p99). Nothing here passes or fails on a timing.
func BenchmarkAgent_EndToEnd(b *testing.B) {
	seconds := envFloat("AGENT_LOAD_SECONDS", 3)
	rate := envFloat("AGENT_LOAD_RATE", 1000)
	subs := int(envFloat("AGENT_LOAD_SUBS", 100))
	deltas := int(seconds * rate)
	for _, earlier := range []int{10, 1000} {
		b.Run("earlier="+strconv.Itoa(earlier), func(b *testing.B) {
			for b.Loop() {
				loadRun(b, earlier, subs, deltas, rate)
			}
		})
	}
}

func envFloat(name string, def float64) float64 {
	v, err := strconv.ParseFloat(os.Getenv(name), 64)
	if err != nil || v <= 0 {
		return def
	}
	return v
}

// loadRun runs one answer of deltas deltas and reports its figures.
func loadRun(b *testing.B, earlier, subs, deltas int, rate float64) {
	model := &loadModel{}
	url := wstest.Serve(b, serveModel(model))
	seeder := wstest.DialWelcome(b, url)
	conv := "load-" + strconv.Itoa(earlier)
	for range earlier / 2 { // a user message and an answer each
		seeder.MustCall("agent", conv, "send", map[string]any{"text": "an earlier question"})
	}

	children0 := cpuTime(syscall.RUSAGE_CHILDREN)
	child, ask, lines := startSubscribers(b, url, conv, subs, deltas)
	if line := <-lines; line != "ready" {
		b.Fatalf("subscriber process: %q", line)
	}
	l := newLoad(deltas, rate)
	model.load.Store(l)

	runtime.GC()
	var mem0, mem1 runtime.MemStats
	runtime.ReadMemStats(&mem0)
	cpu0 := cpuTime(syscall.RUSAGE_SELF)
	if _, err := io.WriteString(ask, "go\n"); err != nil {
		b.Fatal(err)
	}
	line := <-lines
	cpu1 := cpuTime(syscall.RUSAGE_SELF)
	runtime.ReadMemStats(&mem1)
	if err := child.Wait(); err != nil {
		b.Fatalf("subscriber process: %v", err)
	}
	var res loadResult
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		b.Fatalf("subscriber process: %v: %q", err, line)
	}

	first, lastEmitted := l.emitted[0], l.emitted[deltas-1]
	latencies := make([]time.Duration, deltas)
	for i, at := range res.LastSeen {
		latencies[i] = time.Duration(at - l.emitted[i])
	}
	slices.Sort(latencies)
	n := float64(deltas)
	b.ReportMetric((n-1)/(time.Duration(lastEmitted-first).Seconds()), "deltas/s")
	b.ReportMetric(float64((cpu1-cpu0).Microseconds())/n, "server-cpu-µs/delta")
	b.ReportMetric(float64(mem1.Mallocs-mem0.Mallocs)/n, "allocs/delta")
	b.ReportMetric(float64(mem1.TotalAlloc-mem0.TotalAlloc)/n, "alloc-B/delta")
	b.ReportMetric(float64(res.Frames)/float64(subs)/n, "patches/sub/delta")
	b.ReportMetric(float64(res.Bytes)/float64(subs)/n, "patch-B/sub/delta")
	b.ReportMetric(float64(res.Bytes)/float64(subs)/float64(max(res.Frames/int64(subs), 1)), "B/patch")
	b.ReportMetric(ms(latencies[len(latencies)/2]), "p50-ms")
	b.ReportMetric(ms(latencies[len(latencies)*99/100]), "p99-ms")
	b.ReportMetric(ms(latencies[len(latencies)-1]), "max-ms")
	b.ReportMetric(float64((cpuTime(syscall.RUSAGE_CHILDREN)-children0).Microseconds())/n, "subscriber-cpu-µs/delta")
	b.Logf("earlier=%d: %d deltas in %v, an answer of %d bytes, %d patch frames per subscriber",
		earlier, deltas, time.Duration(lastEmitted-first), deltas*tokenWidth, res.Frames/int64(subs))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// serveModel serves the agent example with model in place of its fake.
func serveModel(model *loadModel) func(context.Context, net.Listener, *slog.Logger) error {
	return func(ctx context.Context, ln net.Listener, log *slog.Logger) error {
		return serveWith(ctx, ln, log, model)
	}
}

// startSubscribers starts the subscriber process and returns its standard
// input (a line asks for the answer) and the lines it reports, without
// their prefix.
func startSubscribers(b *testing.B, url, conv string, subs, deltas int) (*exec.Cmd, io.Writer, <-chan string) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoadSubscriberProcess$")
	cmd.Env = append(os.Environ(), envLoadURL+"="+url, envLoadConv+"="+conv,
		envLoadSubs+"="+strconv.Itoa(subs), envLoadLast+"="+strconv.Itoa(deltas))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	lines := make(chan string, 2)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), loadLine); ok {
				lines <- line
			}
		}
	}()
	b.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, in, lines
}

// cpuTime is the user and system CPU time of the process (RUSAGE_SELF)
// or of its waited-for children (RUSAGE_CHILDREN).
func cpuTime(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		panic(fmt.Sprintf("getrusage: %v", err))
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
