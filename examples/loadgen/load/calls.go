package load

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zocket-go/zocket/protocol"
)

// callTimeout bounds each sequential call of a scenario.
const callTimeout = 10 * time.Second

// RTT measures round trips: one connection, N sequential counter.increment
// on counter/ID after Warmup unmeasured ones.
type RTT struct {
	Target
	N, Warmup int
	ID        string
}

// Run runs the scenario and emits its result.
func (s RTT) Run(ctx context.Context, emit func(Result)) error {
	c, err := Dial(ctx, s.URL, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	inc := NewRPC("counter", s.ID, "increment", nil)
	for range s.Warmup {
		if _, err := c.CallTimeout(ctx, inc, callTimeout); err != nil {
			return fmt.Errorf("warmup: %w", err)
		}
	}
	lat := make(latencies, 0, s.N)
	errs, gaps := 0, 0
	prev := int64(-1)
	cpu := startCPU(s.PID)
	start := time.Now()
	for range s.N {
		rep, err := c.CallTimeout(ctx, inc, callTimeout)
		if err != nil {
			errs++
			continue
		}
		lat = append(lat, rep.Latency())
		v, ok := intResult(rep.Msg.Result)
		if !ok || (prev >= 0 && v != prev+1) {
			gaps++
		}
		prev = v
	}
	wall := time.Since(start).Seconds()
	r := Result{"scenario": "rtt", "url": s.URL, "n": s.N, "warmup": s.Warmup,
		"ops_s": round(float64(len(lat))/wall, 0), "errors": errs, "result_gaps": gaps, "wall_s": round(wall, 3)}
	lat.addTo(r, "", 50, 99, 99.9)
	cpu.stop(r)
	emit(r)
	return nil
}

// Throughput measures pipelined calls: Conns connections, each keeping
// Window counter.increment outstanding, on its own counter (Same: all on
// counter/HotID), measured for Duration after Warmup.
type Throughput struct {
	Target
	Conns, Window    int
	Duration, Warmup time.Duration
	Same             bool
	HotID            string
}

// pipe is one connection of Throughput. Its figures are written only by
// the connection's reader goroutine (in done), read after the run.
type pipe struct {
	c        *Conn
	rpc      RPC
	slots    chan struct{}
	lat      latencies
	results  []int64
	ops      int64
	errs     int64
	nonMono  int64
	prev     int64
	lastErr  string
	from, to time.Time
}

func (p *pipe) done(m *protocol.Message, sent, recv time.Time) {
	switch v, ok := intResult(m.Result); {
	case m.HasError:
		p.errs++
		p.lastErr = m.Error
	case !ok:
		p.errs++
		p.lastErr = "non-integer result: " + string(m.Result)
	default:
		if v <= p.prev {
			p.nonMono++
		}
		p.prev = v
		p.results = append(p.results, v)
	}
	if !recv.Before(p.from) && recv.Before(p.to) {
		p.ops++
		p.lat = append(p.lat, recv.Sub(sent))
	}
	<-p.slots
}

// drainTimeout bounds the wait for a connection's last results.
const drainTimeout = 15 * time.Second

// run keeps the window full until p.to (or ctx ends), then waits for the
// outstanding calls.
func (p *pipe) run(ctx context.Context, sendErrs *atomic.Int64) {
	for {
		p.slots <- struct{}{}
		if !time.Now().Before(p.to) || ctx.Err() != nil {
			<-p.slots
			break
		}
		if err := p.c.Go(p.rpc, p.done); err != nil {
			sendErrs.Add(1)
			<-p.slots
			return
		}
	}
	deadline := time.After(drainTimeout)
	for range cap(p.slots) {
		select {
		case p.slots <- struct{}{}:
		case <-deadline:
			return
		}
	}
}

// Run runs the scenario and emits its result.
func (s Throughput) Run(ctx context.Context, emit func(Result)) error {
	conns, err := dialMany(ctx, s.URL, s.Conns, 32, nil, nil)
	if err != nil {
		return err
	}
	defer closeAll(conns)
	from := time.Now().Add(s.Warmup)
	to := from.Add(s.Duration)
	tag := strconv.FormatInt(time.Now().UnixNano()%1e9, 36) // fresh actors on every run
	pipes := make([]*pipe, len(conns))
	for i, c := range conns {
		id := s.HotID
		if !s.Same {
			id = fmt.Sprintf("tp%d-%s", i, tag)
		}
		pipes[i] = &pipe{c: c, rpc: NewRPC("counter", id, "increment", nil), slots: make(chan struct{}, s.Window),
			lat: make(latencies, 0, 1<<12), prev: -1, from: from, to: to}
	}
	cpuc := make(chan *cpuWindow, 1)
	timer := time.AfterFunc(time.Until(from), func() { cpuc <- startCPU(s.PID) })
	var wg sync.WaitGroup
	var sendErrs atomic.Int64
	for _, p := range pipes {
		wg.Go(func() { p.run(ctx, &sendErrs) })
	}
	wg.Wait()
	waitClosed(conns) // calls still outstanding fail: the pipes are final
	mode := "per_actor"
	if s.Same {
		mode = "same_actor"
	}
	r := Result{"scenario": "throughput", "mode": mode, "url": s.URL, "conns": s.Conns, "window": s.Window,
		"duration_s": s.Duration.Seconds(), "warmup_s": s.Warmup.Seconds()}
	if timer.Stop() { // cancelled during the warmup
		cpuc <- startCPU(s.PID)
	}
	(<-cpuc).stop(r) // the window runs from the end of the warmup to the end of the drain
	var all latencies
	var ops, errs, nonMono int64
	for _, p := range pipes {
		all = append(all, p.lat...)
		ops += p.ops
		errs += p.errs
		nonMono += p.nonMono
		if p.lastErr != "" {
			r["last_error"] = p.lastErr
		}
	}
	r["ops_s"] = round(float64(ops)/s.Duration.Seconds(), 0)
	r["ops"] = ops
	r["errors"] = errs
	r["send_errors"] = sendErrs.Load()
	r["non_monotonic"] = nonMono
	if s.Same {
		r["duplicate_results"] = duplicates(pipes)
	} else {
		r["result_gaps"] = gaps(pipes)
	}
	all.addTo(r, "", 50, 99, 99.9)
	emit(r)
	return nil
}

// duplicates counts counts returned twice on the shared actor: every
// increment must see a distinct count if calls are serialized.
func duplicates(pipes []*pipe) int64 {
	seen := map[int64]bool{}
	var n int64
	for _, p := range pipes {
		for _, v := range p.results {
			if seen[v] {
				n++
			}
			seen[v] = true
		}
	}
	return n
}

// gaps counts results that are not their predecessor plus one, on actors
// that each have one connection.
func gaps(pipes []*pipe) int64 {
	var n int64
	for _, p := range pipes {
		for i := 1; i < len(p.results); i++ {
			if p.results[i] != p.results[i-1]+1 {
				n++
			}
		}
	}
	return n
}
