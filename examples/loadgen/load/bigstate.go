package load

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zocket-go/zocket/protocol"
)

// BigState measures how the cost of a change grows with the state: for
// each size n, big/ID is seeded with n items, one subscriber joins, and a
// writer makes Touches sequential big.touch then Appends big.append.
type BigState struct {
	Target
	Sizes            []int
	Touches, Appends int
	ID               string
}

// patchCounter is the subscriber of one BigState size: it records when
// each patch came and hands over the snapshot's size.
type patchCounter struct {
	epoch   time.Time
	snap    chan int
	patches atomic.Int64
	bytes   atomic.Int64
	at      []atomic.Int64 // per patch, nanoseconds since epoch
}

func (p *patchCounter) handle(m *protocol.Message, size int, at time.Time) {
	switch m.Type {
	case protocol.TypeStateSnapshot:
		select {
		case p.snap <- size:
		default:
		}
	case protocol.TypeStatePatch:
		k := p.patches.Add(1) - 1
		p.bytes.Add(int64(size))
		if int(k) < len(p.at) {
			p.at[k].Store(int64(at.Sub(p.epoch)))
		}
	}
}

// Run runs the scenario and emits one result per size.
func (s BigState) Run(ctx context.Context, emit func(Result)) error {
	w, err := Dial(ctx, s.URL, nil)
	if err != nil {
		return fmt.Errorf("writer: %w", err)
	}
	defer w.Close()
	for _, n := range s.Sizes {
		r, err := s.size(ctx, w, n)
		if err != nil {
			return err
		}
		emit(r)
	}
	return nil
}

func (s BigState) size(ctx context.Context, w *Conn, n int) (Result, error) {
	seed, err := w.CallTimeout(ctx, NewRPC("big", s.ID, "seed", map[string]int{"n": n}), 120*time.Second)
	if err != nil {
		return nil, fmt.Errorf("seed %d: %w", n, err)
	}
	total := s.Touches + s.Appends
	pc := &patchCounter{epoch: time.Now(), snap: make(chan int, 1), at: make([]atomic.Int64, total)}
	sub, err := Dial(ctx, s.URL, pc.handle)
	if err != nil {
		return nil, fmt.Errorf("subscriber: %w", err)
	}
	defer sub.Close()
	subStart := time.Now()
	if err := sub.Subscribe(protocol.TypeStateSub, "big", s.ID); err != nil {
		return nil, err
	}
	var snapBytes int
	select {
	case snapBytes = <-pc.snap:
	case <-time.After(120 * time.Second):
		return nil, fmt.Errorf("no snapshot for n=%d", n)
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the snapshot for n=%d: %w", n, ctx.Err())
	}
	snapLat := time.Since(subStart)

	sentAt := make([]int64, total)
	lat := make(latencies, 0, s.Touches)
	errs := 0
	cpu := startCPU(s.PID)
	start := time.Now()
	for k := range s.Touches {
		sentAt[k] = int64(time.Since(pc.epoch))
		rep, err := w.CallTimeout(ctx, NewRPC("big", s.ID, "touch", map[string]int{"i": (k * 7919) % n}), 60*time.Second)
		if err != nil {
			errs++
			continue
		}
		lat = append(lat, rep.Latency())
	}
	wall := time.Since(start).Seconds()
	r := Result{}
	cpu.stop(r)
	appendCall := NewRPC("big", s.ID, "append", nil)
	alat := make(latencies, 0, s.Appends)
	start = time.Now()
	for k := range s.Appends {
		sentAt[s.Touches+k] = int64(time.Since(pc.epoch))
		rep, err := w.CallTimeout(ctx, appendCall, 60*time.Second)
		if err != nil {
			errs++
			continue
		}
		alat = append(alat, rep.Latency())
	}
	awall := time.Since(start).Seconds()
	_ = poll(ctx, 30*time.Second, func() bool { return pc.patches.Load() >= int64(total) })
	var subLat latencies
	for k := range s.Touches {
		if v := pc.at[k].Load(); v > 0 {
			subLat = append(subLat, time.Duration(v-sentAt[k]))
		}
	}
	got := pc.patches.Load()
	r.add(Result{"scenario": "bigstate", "url": s.URL, "n": n, "touches": s.Touches, "appends": s.Appends,
		"seed_ms": round(float64(seed.Latency())/1e6, 2), "snapshot_bytes": snapBytes,
		"snapshot_ms": round(float64(snapLat)/1e6, 2),
		"ops_s":       round(float64(len(lat))/wall, 0), "errors": errs,
		"append_ops_s": round(float64(len(alat))/awall, 0),
		"sub_patches":  got, "sub_patches_lost": int64(total) - got,
		"avg_patch_bytes": round(float64(pc.bytes.Load())/float64(max(1, got)), 1),
	})
	lat.addTo(r, "", 50, 99)
	alat.addTo(r, "append_", 50)
	subLat.addTo(r, "sub_", 50)
	return r, nil
}

// Backpressure shows what the server does with a subscriber that stops
// reading: it subscribes to big/ID and blocks its reader while a writer
// makes Seeds big.seed calls of N items each (one large patch each), and
// for Pause after; then it reads again and counts what arrived: patches,
// or snapshots in their place.
type Backpressure struct {
	Target
	Seeds, N int
	Pause    time.Duration
	ID       string
}

// Run runs the scenario and emits its result.
func (s Backpressure) Run(ctx context.Context, emit func(Result)) error {
	w, err := Dial(ctx, s.URL, nil)
	if err != nil {
		return fmt.Errorf("writer: %w", err)
	}
	defer w.Close()
	sub, err := Dial(ctx, s.URL, nil)
	if err != nil {
		return fmt.Errorf("subscriber: %w", err)
	}
	defer sub.Close()
	var patches, bytes, snapshots atomic.Int64
	gate := make(chan struct{})
	var opened sync.Once
	open := func() { opened.Do(func() { close(gate) }) }
	defer open() // never leave the reader blocked
	var blocked sync.Once
	sub.SetHandler(func(m *protocol.Message, size int, _ time.Time) {
		blocked.Do(func() { <-gate }) // the subscriber stops reading from the socket
		switch m.Type {
		case protocol.TypeStatePatch:
			patches.Add(1)
			bytes.Add(int64(size))
		case protocol.TypeStateSnapshot:
			snapshots.Add(1)
		}
	})
	if err := sub.Subscribe(protocol.TypeStateSub, "big", s.ID); err != nil {
		return err
	}
	time.Sleep(200 * time.Millisecond) // let the subscription land before the writes
	start := time.Now()
	seedErrs := 0
	for range s.Seeds {
		if _, err := w.CallTimeout(ctx, NewRPC("big", s.ID, "seed", map[string]int{"n": s.N}), 60*time.Second); err != nil {
			seedErrs++
		}
	}
	send := time.Since(start).Seconds()
	time.Sleep(s.Pause)
	open()
	// every patch, or a fresh snapshot in their place (the first one answered the subscription)
	_ = poll(ctx, 20*time.Second, func() bool { return patches.Load() >= int64(s.Seeds) || snapshots.Load() > 1 })
	time.Sleep(500 * time.Millisecond) // anything still in flight, or a disconnect
	alive := true
	select {
	case <-sub.Done():
		alive = false
	default:
	}
	emit(Result{"scenario": "backpressure", "url": s.URL, "seeds": s.Seeds, "n": s.N, "pause_s": s.Pause.Seconds(),
		"writer_s": round(send, 2), "seed_errors": seedErrs, "patches_expected": s.Seeds,
		"patches_recv": patches.Load(), "patch_bytes_recv": bytes.Load(), "snapshots_recv": snapshots.Load(), "sub_alive": alive})
	return nil
}
