package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zocket-go/zocket/protocol"
)

// subscribeTimeout bounds the wait for a subscription's snapshot.
const subscribeTimeout = 30 * time.Second

// Fanout measures delivery to many subscribers: Subs connections subscribed
// to the state and the events of chat/Room (Par dials at a time), one writer
// sending Sends sequential chat.send. Sync waits until every subscriber has
// message k before sending k+1. Timeout bounds the wait for full delivery.
type Fanout struct {
	Target
	Subs, Sends, Par int
	Room             string
	Sync             bool
	Timeout          time.Duration
}

// fanRun is the shared bookkeeping of one Fanout run: per message k, how
// many subscribers have it and when the first and the last got it
// (nanoseconds since epoch).
type fanRun struct {
	Fanout
	epoch                  time.Time
	delivered, events      []atomic.Int32
	first, last            []atomic.Int64
	all                    []chan struct{} // closed when every subscriber has patch k
	patches, evs, lastRecv atomic.Int64
}

// fanSub is one subscriber; its fields beyond the atomics belong to its
// reader goroutine.
type fanSub struct {
	run        *fanRun
	snap       chan struct{}
	snapOnce   sync.Once
	base       int // messages in the snapshot
	lastK      int // index of the last patch seen
	patches    atomic.Int64
	events     atomic.Int64
	bad        atomic.Int64 // a patch or event of unexpected shape or index
	eventFirst atomic.Int64 // event k before patch k
}

func (s *fanSub) handle(m *protocol.Message, _ int, at time.Time) {
	r := s.run
	ns := int64(at.Sub(r.epoch))
	switch m.Type {
	case protocol.TypeStateSnapshot:
		var st struct {
			Messages []json.RawMessage `json:"messages"`
		}
		if json.Unmarshal(m.State, &st) == nil {
			s.base = len(st.Messages)
		}
		s.snapOnce.Do(func() { close(s.snap) })
	case protocol.TypeStatePatch:
		k, ok := s.patchIndex(m.Patches)
		if !ok || k < 0 || k >= r.Sends {
			s.bad.Add(1)
			return
		}
		if k != s.lastK+1 {
			s.bad.Add(1)
		}
		s.lastK = k
		s.patches.Add(1)
		r.patches.Add(1)
		r.lastRecv.Store(ns)
		n := r.delivered[k].Add(1)
		if n == 1 {
			r.first[k].Store(ns)
		}
		if int(n) == r.Subs {
			r.last[k].Store(ns)
			close(r.all[k])
		}
	case protocol.TypeEvent:
		var p struct{ Text string }
		if m.Event != "message" || json.Unmarshal(m.Payload, &p) != nil || !strings.HasPrefix(p.Text, "m") {
			s.bad.Add(1)
			return
		}
		k, err := strconv.Atoi(p.Text[1:])
		if err != nil || k < 0 || k >= r.Sends {
			s.bad.Add(1)
			return
		}
		if k > s.lastK {
			s.eventFirst.Add(1)
		}
		s.events.Add(1)
		r.evs.Add(1)
		r.events[k].Add(1)
		r.lastRecv.Store(ns)
	}
}

// patchIndex is the message index a chat patch appends: one "add" at
// /messages/<i> (or /messages/-, the next one).
func (s *fanSub) patchIndex(ops []protocol.Op) (int, bool) {
	if len(ops) != 1 || ops[0].Op != protocol.OpAdd {
		return 0, false
	}
	path := ops[0].Path
	if strings.HasSuffix(path, "/-") {
		return s.lastK + 1, true
	}
	i, err := strconv.Atoi(path[strings.LastIndexByte(path, '/')+1:])
	return i - s.base, err == nil
}

// Run runs the scenario and emits its result.
func (f Fanout) Run(ctx context.Context, emit func(Result)) error {
	r := &fanRun{Fanout: f, epoch: time.Now(), delivered: make([]atomic.Int32, f.Sends),
		events: make([]atomic.Int32, f.Sends), first: make([]atomic.Int64, f.Sends),
		last: make([]atomic.Int64, f.Sends), all: make([]chan struct{}, f.Sends)}
	for k := range r.all {
		r.all[k] = make(chan struct{})
	}
	subs := make([]*fanSub, f.Subs)
	for i := range subs {
		subs[i] = &fanSub{run: r, snap: make(chan struct{}), lastK: -1}
	}
	connectStart := time.Now()
	conns, err := dialMany(ctx, f.URL, f.Subs, f.Par, func(i int) Handler { return subs[i].handle },
		func(i int, c *Conn) error {
			// events first: the snapshot then proves both subscriptions are active
			if err := c.Subscribe(protocol.TypeEventSub, "chat", f.Room); err != nil {
				return err
			}
			if err := c.Subscribe(protocol.TypeStateSub, "chat", f.Room); err != nil {
				return err
			}
			return waitFor(ctx, subs[i].snap, subscribeTimeout, "state:snapshot")
		})
	if err != nil {
		return fmt.Errorf("subscribers: %w", err)
	}
	defer closeAll(conns)
	connect := time.Since(connectStart).Seconds()
	base := subs[0].base
	for _, s := range subs {
		if s.base != base {
			return fmt.Errorf("subscribers saw different snapshots (%d and %d messages)", s.base, base)
		}
	}
	w, err := Dial(ctx, f.URL, nil)
	if err != nil {
		return fmt.Errorf("writer: %w", err)
	}
	defer w.Close()

	sentAt := make([]int64, f.Sends)
	rpcLat := make(latencies, 0, f.Sends)
	rpcErrs, mismatch := 0, 0
	cpu := startCPU(f.PID)
	start := time.Now()
	for k := range f.Sends {
		call := NewRPC("chat", f.Room, "send", map[string]string{"from": "w", "text": "m" + strconv.Itoa(k)})
		sentAt[k] = int64(time.Since(r.epoch))
		rep, err := w.CallTimeout(ctx, call, 30*time.Second)
		if err != nil {
			rpcErrs++
			continue
		}
		rpcLat = append(rpcLat, rep.Latency())
		var res struct{ N int }
		if json.Unmarshal(rep.Msg.Result, &res) != nil || res.N != base+k+1 {
			mismatch++
		}
		if f.Sync {
			_ = waitFor(ctx, r.all[k], f.Timeout, "") // a loss shows in the figures
		}
	}
	writer := time.Since(start).Seconds()
	want := int64(f.Subs) * int64(f.Sends)
	_ = poll(ctx, f.Timeout, func() bool { return r.patches.Load() >= want && r.evs.Load() >= want })
	cpuOut := Result{}
	cpu.stop(cpuOut)

	var lastLat, firstLat latencies
	for k := range f.Sends {
		if v := r.last[k].Load(); v > 0 {
			lastLat = append(lastLat, time.Duration(v-sentAt[k]))
		}
		if v := r.first[k].Load(); v > 0 {
			firstLat = append(firstLat, time.Duration(v-sentAt[k]))
		}
	}
	var bad, eventFirst, minP, minE int64 = 0, 0, 1 << 62, 1 << 62
	for _, s := range subs {
		bad += s.bad.Load()
		eventFirst += s.eventFirst.Load()
		minP = min(minP, s.patches.Load())
		minE = min(minE, s.events.Load())
	}
	span := time.Duration(r.lastRecv.Load() - sentAt[0]).Seconds()
	out := Result{"scenario": "fanout", "url": f.URL, "subs": f.Subs, "sends": f.Sends, "room": f.Room,
		"sync": f.Sync, "connect_s": round(connect, 2), "snapshot_len": base,
		"patches_recv": r.patches.Load(), "events_recv": r.evs.Load(),
		"patches_lost": want - r.patches.Load(), "events_lost": want - r.evs.Load(),
		"min_patches_per_sub": minP, "min_events_per_sub": minE,
		"bad_msgs": bad, "event_before_patch": eventFirst,
		"rpc_errors": rpcErrs, "result_mismatch": mismatch,
		"writer_s": round(writer, 3), "delivery_span_s": round(span, 3),
		"msgs_per_s":    round(float64(r.patches.Load()+r.evs.Load())/span, 0),
		"patches_per_s": round(float64(r.patches.Load())/span, 0),
		"sends_per_s":   round(float64(f.Sends)/writer, 1),
	}
	out.add(cpuOut)
	lastLat.addTo(out, "last_", 50, 99)
	firstLat.addTo(out, "first_", 50)
	rpcLat.addTo(out, "rpc_", 50, 99)
	emit(out)
	return nil
}

// waitFor waits until ch is closed, for at most d.
func waitFor(ctx context.Context, ch <-chan struct{}, d time.Duration, what string) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-t.C:
		return fmt.Errorf("no %s within %v", what, d)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// errTimeout is returned by poll when the condition did not hold in time.
var errTimeout = errors.New("load: timed out")

// pollInterval is how often poll checks its condition.
const pollInterval = 2 * time.Millisecond

// poll waits until cond holds, for at most d.
func poll(ctx context.Context, d time.Duration, cond func() bool) error {
	deadline := time.Now().Add(d)
	for !cond() {
		if !time.Now().Before(deadline) {
			return errTimeout
		}
		select {
		case <-time.After(pollInterval):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
