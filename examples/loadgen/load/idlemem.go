package load

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/zocket-go/zocket/protocol"
)

// ErrNoPID is returned by IdleMem.Run without a server pid to measure.
var ErrNoPID = errors.New("load: idlemem needs the server's pid")

// IdleMem measures the server's resident memory per idle connection: K
// connections (Par dials at a time), each subscribed to the state of one of
// Actors counters c0..c<Actors-1>. Prewarm connections are opened and
// closed first (creating the actors), and the resident memory is sampled
// Settle after each phase.
type IdleMem struct {
	Target
	K, Actors, Par, Prewarm int
	Settle                  time.Duration
}

// connectSubscribed opens n connections each subscribed to a counter's
// state, returning once every one has its snapshot.
func (s IdleMem) connectSubscribed(ctx context.Context, n int) ([]*Conn, error) {
	snaps := make([]chan struct{}, n)
	for i := range snaps {
		snaps[i] = make(chan struct{})
	}
	handler := func(i int) Handler {
		var once sync.Once
		return func(m *protocol.Message, _ int, _ time.Time) {
			if m.Type == protocol.TypeStateSnapshot {
				once.Do(func() { close(snaps[i]) })
			}
		}
	}
	return dialMany(ctx, s.URL, n, s.Par, handler, func(i int, c *Conn) error {
		if err := c.Subscribe(protocol.TypeStateSub, "counter", "c"+strconv.Itoa(i%s.Actors)); err != nil {
			return err
		}
		return waitFor(ctx, snaps[i], subscribeTimeout, "state:snapshot")
	})
}

// Run runs the scenario and emits its result.
func (s IdleMem) Run(ctx context.Context, emit func(Result)) error {
	if s.PID <= 0 {
		return ErrNoPID
	}
	if s.Prewarm > 0 {
		conns, err := s.connectSubscribed(ctx, s.Prewarm)
		if err != nil {
			return err
		}
		closeAll(conns)
		time.Sleep(s.Settle)
	}
	before, _ := procStatusKB(s.PID, "VmRSS")
	start := time.Now()
	conns, err := s.connectSubscribed(ctx, s.K)
	if err != nil {
		return err
	}
	defer closeAll(conns)
	connect := time.Since(start).Seconds()
	time.Sleep(s.Settle)
	after, _ := procStatusKB(s.PID, "VmRSS")
	hwm, _ := procStatusKB(s.PID, "VmHWM")
	cpu0, _ := procCPU(s.PID)
	const idleWindow = 2 * time.Second
	time.Sleep(idleWindow)
	cpu1, _ := procCPU(s.PID)
	alive := 0
	for _, c := range conns {
		select {
		case <-c.Done():
		default:
			alive++
		}
	}
	emit(Result{"scenario": "idlemem", "url": s.URL, "conns": s.K, "actors": s.Actors, "prewarm": s.Prewarm,
		"settle_s": s.Settle.Seconds(), "connect_s": round(connect, 2), "conns_per_s": round(float64(s.K)/connect, 0),
		"rss_before_kb": before, "rss_after_kb": after, "vmhwm_kb": hwm,
		"rss_delta_mb":    round(float64(after-before)/1024, 1),
		"rss_per_conn_kb": round(float64(after-before)/float64(s.K), 2),
		"idle_cpu_pct":    round((cpu1-cpu0)/idleWindow.Seconds()*100, 1),
		"alive_at_end":    alive,
	})
	return nil
}
