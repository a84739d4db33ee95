package soak

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zocket-go/zocket/examples/loadgen/load"
	"github.com/zocket-go/zocket/protocol"
	"github.com/zocket-go/zocket/statestore"
)

// replica is a subscriber's copy of one instance's state: the snapshot with
// every later patch applied.
type replica struct {
	store      *statestore.Store
	snapshot   chan struct{} // closed at the first snapshot
	once       sync.Once
	badPatches atomic.Int64
}

func newReplica() *replica {
	return &replica{store: statestore.New(), snapshot: make(chan struct{})}
}

// handle is the connection's Handler.
func (r *replica) handle(m *protocol.Message, _ int, _ time.Time) {
	switch m.Type {
	case protocol.TypeStateSnapshot:
		if r.store.ApplySnapshot(m.State) != nil {
			r.badPatches.Add(1)
		}
		r.once.Do(func() { close(r.snapshot) })
	case protocol.TypeStatePatch:
		if _, err := r.store.ApplyPatch(m.Patches); err != nil {
			r.badPatches.Add(1)
		}
	}
}

// subscribe dials url and subscribes to the state of soak/id.
func (r *replica) subscribe(ctx context.Context, url, id string) (*load.Conn, error) {
	c, err := load.Dial(ctx, url, r.handle)
	if err != nil {
		return nil, err
	}
	if err := c.Subscribe(protocol.TypeStateSub, "soak", id); err != nil {
		c.Close()
		return nil, err
	}
	select {
	case <-r.snapshot:
		return c, nil
	case <-c.Done():
		return nil, fmt.Errorf("closed before the snapshot of %s: %w", id, c.Err())
	case <-ctx.Done():
		c.Close()
		return nil, ctx.Err()
	}
}

// watcher is a subscriber that stays for the whole run.
type watcher struct {
	*replica
	conn *load.Conn
}

func watch(ctx context.Context, url, id string) (*watcher, error) {
	r := newReplica()
	c, err := r.subscribe(ctx, url, id)
	return &watcher{r, c}, err
}

// equals reports whether the watcher's state is st.
func (w *watcher) equals(st soakState) bool {
	var mine soakState
	return json.Unmarshal(w.store.JSON(), &mine) == nil && mine == st
}

// tally counts a churn run's outcomes.
type tally struct {
	conns, vanished, inFlight               atomic.Int64
	dialErrors, closeErrors                 atomic.Int64
	firstCloseError                         atomic.Value // error
	answered, failed, unanswered, abandoned atomic.Int64
	unmatched, badPatches                   atomic.Int64
	peakGoroutines                          atomic.Int64
}

// How a churning connection ends, by its index modulo 4.
const (
	endClose    = iota // closing handshake
	endVanish          // TCP connection dropped, no WebSocket close
	endInFlight        // dropped with calls in flight
	endUnsub           // state:unsub, then closing handshake
)

// callTimeout bounds each call: a call unanswered by then counts as such.
const callTimeout = 30 * time.Second

// churn opens sz.conns connections, sz.open at a time, each subscribing to
// one instance, making its share of sz.calls and leaving, spread over
// sz.duration.
func churn(ctx context.Context, url string, sz size) *tally {
	t := &tally{}
	var next atomic.Int64
	var lifetime time.Duration // of one connection, when paced
	if sz.duration > 0 {
		lifetime = sz.duration * time.Duration(sz.open) / time.Duration(sz.conns)
	}
	var wg sync.WaitGroup
	for range sz.open {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= sz.conns || ctx.Err() != nil {
					return
				}
				calls := sz.calls / sz.conns
				if i < sz.calls%sz.conns {
					calls++
				}
				t.conns.Add(1)
				if err := t.connection(ctx, url, i, calls, actorID(i%sz.actors), lifetime); err != nil {
					t.dialErrors.Add(1)
				}
			}
		})
	}
	wg.Wait()
	return t
}

// connection runs churning connection i: subscribe, calls, end.
func (t *tally) connection(ctx context.Context, url string, i, calls int, id string, lifetime time.Duration) error {
	r := newReplica()
	c, err := r.subscribe(ctx, url, id)
	if err != nil {
		return err
	}
	for n := int64(runtime.NumGoroutine()); ; {
		peak := t.peakGoroutines.Load()
		if n <= peak || t.peakGoroutines.CompareAndSwap(peak, n) {
			break
		}
	}
	end := i % 4
	sequential := calls
	if end == endInFlight {
		sequential = calls / 2
	}
	var gap time.Duration
	if calls > 0 {
		gap = lifetime / time.Duration(calls)
	}
	for k := range sequential {
		t.call(ctx, c, bumpCall(id, i, k))
		if gap > 0 {
			select {
			case <-time.After(gap):
			case <-ctx.Done():
			}
		}
	}
	switch end {
	case endClose:
		t.closeGracefully(c)
	case endUnsub:
		if err := c.Subscribe(protocol.TypeStateUnsub, "soak", id); err != nil {
			t.closeErrors.Add(1)
			t.firstCloseError.CompareAndSwap(nil, err)
		}
		t.closeGracefully(c)
	case endVanish:
		t.vanished.Add(1)
		c.Close()
	case endInFlight:
		t.inFlight.Add(1)
		t.vanished.Add(1)
		for k := sequential; k < calls; k++ {
			if c.Go(bumpCall(id, i, k), t.pipelined) != nil {
				t.abandoned.Add(1)
			}
		}
		c.Close()
	}
	<-c.Done() // every result and every lost call counted
	t.unmatched.Add(c.Unmatched.Load() + c.Undecodable.Load())
	t.badPatches.Add(r.badPatches.Load())
	return nil
}

func bumpCall(id string, i, k int) load.RPC {
	return load.NewRPC("soak", id, "bump", bump{By: 1, Tag: fmt.Sprintf("c%d-%d", i, k)})
}

// call makes one call and waits for its result.
func (t *tally) call(ctx context.Context, c *load.Conn, rpc load.RPC) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	_, err := c.Call(ctx, rpc)
	switch {
	case err == nil:
		t.answered.Add(1)
	case errors.Is(err, load.ErrRemote):
		t.failed.Add(1)
	default:
		t.unanswered.Add(1)
	}
}

// pipelined counts the result of a call made with calls in flight.
func (t *tally) pipelined(m *protocol.Message, _, _ time.Time) {
	switch {
	case load.Lost(m):
		t.abandoned.Add(1)
	case m.HasError:
		t.failed.Add(1)
	default:
		t.answered.Add(1)
	}
}

func (t *tally) closeGracefully(c *load.Conn) {
	if err := c.CloseGracefully(); err != nil {
		t.closeErrors.Add(1)
		t.firstCloseError.CompareAndSwap(nil, err)
	}
}
