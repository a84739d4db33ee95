// Command loadgen is the load generator behind BENCHMARKS.md: it drives a
// server speaking the Zocket wire protocol that hosts the benchmark actors
// (counter, chat, big; examples/bench serves them) and prints one JSON line
// per result on stdout.
//
//	go build -o /tmp/loadgen ./examples/loadgen
//	PORT=3000 go run ./examples/bench &
//	/tmp/loadgen rtt -url ws://127.0.0.1:3000 -pid <server pid> -label go >> r.jsonl
//	/tmp/loadgen summarize r.jsonl
//
// Scenarios (loadgen <scenario> -h lists the flags):
//
//	rtt           1 connection, sequential counter.increment
//	throughput    C connections x W pipelined counter.increment (-same: one shared actor)
//	fanout        S subscribers of chat/<room>, one sequential writer of chat.send
//	bigstate      big/<id> seeded with n items, 1 subscriber, sequential touch and append
//	idlemem       K idle state-subscribed connections, server RSS per connection (-pid)
//	backpressure  a subscriber stops reading while large patches are sent
//	summarize     medians of result files (ratios between -label values)
//
// -pid adds the server's CPU time (from /proc) to the figures. The
// LOADGEN_CPUPROFILE environment variable names a file for a CPU profile
// of the load generator itself.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/zocket-go/zocket/examples/loadgen/load"
)

// scenario is what every load scenario offers.
type scenario interface {
	Run(ctx context.Context, emit func(load.Result)) error
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	if err := run(os.Args[1], os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "loadgen: %v\n", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: loadgen {rtt|throughput|fanout|bigstate|idlemem|backpressure|summarize} [-url ws://127.0.0.1:3000] [-pid N] [flags]; loadgen <scenario> -h for flags")
	os.Exit(2)
}

func run(cmd string, args []string) error {
	if file := os.Getenv("LOADGEN_CPUPROFILE"); file != "" {
		f, err := os.Create(file)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	if cmd == "summarize" {
		return summarize(fs, args)
	}
	label := fs.String("label", "", "free-form label copied into every result line (e.g. ts-bun, go)")
	procs := fs.Int("procs", 0, "GOMAXPROCS for the loadgen (0 = auto: 1 for the sequential rtt and bigstate, Go default otherwise)")
	s, err := parse(cmd, fs, args)
	if err != nil {
		return err
	}
	switch {
	case *procs > 0:
		runtime.GOMAXPROCS(*procs)
	case cmd == "rtt" || cmd == "bigstate":
		runtime.GOMAXPROCS(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	return s.Run(ctx, load.Output{W: os.Stdout, Label: *label}.Emit)
}

// targetFlags defines the flags naming the server under test.
func targetFlags(fs *flag.FlagSet, t *load.Target) {
	fs.StringVar(&t.URL, "url", "ws://127.0.0.1:3000", "server WebSocket URL")
	fs.IntVar(&t.PID, "pid", 0, "server pid for CPU/RSS measurement (0 = off)")
}

// parse defines the flags of scenario cmd on fs, parses args and returns
// the scenario.
func parse(cmd string, fs *flag.FlagSet, args []string) (scenario, error) {
	var (
		s scenario
		t *load.Target
	)
	finish := func() error { return nil } // checks the flags once parsed
	switch cmd {
	case "rtt":
		r := &load.RTT{}
		s, t = r, &r.Target
		fs.IntVar(&r.N, "n", 20000, "measured calls")
		fs.IntVar(&r.Warmup, "warmup", 1000, "unmeasured warmup calls")
		fs.StringVar(&r.ID, "id", "rtt", "counter actor id")
	case "throughput":
		r := &load.Throughput{}
		s, t = r, &r.Target
		fs.IntVar(&r.Conns, "c", 64, "connections")
		fs.IntVar(&r.Window, "w", 16, "outstanding rpcs per connection")
		fs.DurationVar(&r.Duration, "d", 10*time.Second, "measured duration")
		fs.DurationVar(&r.Warmup, "warmup", 2*time.Second, "unmeasured warmup before the window")
		fs.BoolVar(&r.Same, "same", false, "all connections hit the same actor id")
		fs.StringVar(&r.HotID, "hot-id", "hot", "actor id used with -same")
	case "fanout":
		r := &load.Fanout{}
		s, t = r, &r.Target
		fs.IntVar(&r.Subs, "s", 1000, "subscriber connections")
		fs.IntVar(&r.Sends, "sends", 200, "sequential chat.send calls")
		fs.IntVar(&r.Par, "par", 50, "parallel dials while connecting")
		fs.StringVar(&r.Room, "room", "room", "chat actor id")
		fs.BoolVar(&r.Sync, "sync", false, "wait until every subscriber got send k before send k+1")
		fs.DurationVar(&r.Timeout, "timeout", 60*time.Second, "max wait for full delivery")
	case "bigstate":
		r := &load.BigState{}
		s, t = r, &r.Target
		sizes := fs.String("sizes", "100,10000,100000", "comma-separated item counts")
		fs.IntVar(&r.Touches, "touches", 2000, "sequential touch calls per size")
		fs.IntVar(&r.Appends, "appends", 200, "sequential append calls per size (after touches)")
		fs.StringVar(&r.ID, "id", "b", "big actor id")
		finish = func() error {
			for p := range strings.SplitSeq(*sizes, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(p))
				if err != nil || n <= 0 {
					return fmt.Errorf("bad size %q", p)
				}
				r.Sizes = append(r.Sizes, n)
			}
			return nil
		}
	case "idlemem":
		r := &load.IdleMem{}
		s, t = r, &r.Target
		fs.IntVar(&r.K, "k", 10000, "connections")
		fs.IntVar(&r.Actors, "actors", 100, "distinct counter actors (c0..c<actors-1>)")
		fs.IntVar(&r.Par, "par", 100, "parallel dials")
		fs.IntVar(&r.Prewarm, "prewarm", 100, "connections opened+closed before the baseline RSS sample")
		fs.DurationVar(&r.Settle, "settle", 3*time.Second, "wait before sampling RSS")
	case "backpressure":
		r := &load.Backpressure{}
		s, t = r, &r.Target
		fs.IntVar(&r.Seeds, "seeds", 20, "seed calls (each sends a replace-/items patch of ~26 bytes * n)")
		fs.IntVar(&r.N, "n", 100000, "items per seed")
		fs.DurationVar(&r.Pause, "pause", 2*time.Second, "how long the subscriber keeps not reading after the writer finished")
		fs.StringVar(&r.ID, "id", "bp", "big actor id")
	default:
		usage()
	}
	targetFlags(fs, t)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return s, finish()
}

func summarize(fs *flag.FlagSet, args []string) error {
	var o load.SummaryOptions
	fs.Float64Var(&o.MaxOther, "max-other", -1, "ignore results whose other_cpu_pct (background load, % of one core) is above this; -1 = keep all")
	fs.StringVar(&o.Baseline, "baseline", "", "label used as the ratio baseline (default: first label seen)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var inputs []io.Reader
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		inputs = append(inputs, f)
	}
	return load.Summarize(os.Stdout, inputs, o)
}
