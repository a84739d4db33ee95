package natscluster_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/client"
	"github.com/zocket-go/zocket/internal/testsupport/poll"
	"github.com/zocket-go/zocket/storage/natsstore"
	"github.com/zocket-go/zocket/transport/natscluster"
)

// Ledger is the state of the scale-out tests' durable actor: the
// operations applied, in order.
type Ledger struct {
	Ops []string `json:"ops"`
}

var apply = zocket.Method("apply", func(c *zocket.Context[Ledger, zocket.NoData], op string) (int, error) {
	c.State.Ops = append(c.State.Ops, op)
	return len(c.State.Ops), nil
})

// activations records which runtime hosts each instance, and fails the
// test when a second runtime activates an instance another live runtime
// still hosts.
type activations struct {
	t     *testing.T
	mu    sync.Mutex
	host  map[string]string // "actor/id" → runtime
	dead  map[string]bool   // crashed runtimes: they host nothing
	count atomic.Int64
}

func (a *activations) hooks(runtime string) []zocket.Option {
	return []zocket.Option{
		zocket.WithInstanceCreated(func(actor, id string) {
			a.mu.Lock()
			defer a.mu.Unlock()
			if a.dead[runtime] {
				return
			}
			k := actor + "/" + id
			if other, ok := a.host[k]; ok && other != runtime {
				a.t.Errorf("%s activated on %s while active on %s", k, runtime, other)
			}
			a.host[k] = runtime
			a.count.Add(1)
		}),
		zocket.WithInstanceDestroyed(func(actor, id string) {
			a.mu.Lock()
			defer a.mu.Unlock()
			if k := actor + "/" + id; a.host[k] == runtime {
				delete(a.host, k)
			}
		}),
	}
}

// crashed forgets what a crashed runtime hosted.
func (a *activations) crashed(runtime string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.dead[runtime] = true
	for k, h := range a.host {
		if h == runtime {
			delete(a.host, k)
		}
	}
}

// fleet is a NATS server with file storage, runtimes sharing a
// partitioned INBOUND and a JetStream store, and one gateway.
type fleet struct {
	t       *testing.T
	url     string
	acts    *activations
	wsURL   string
	pinTTL  time.Duration // RuntimeOptions.PinnedTTL of runtimes started from now on
	mu      sync.Mutex
	runners map[string]*runner
}

type runner struct {
	rt  *natscluster.Runtime
	app *zocket.App
	ncs []*nats.Conn
}

const fleetPartitions = 16

func startFleet(t *testing.T, runtimes int) *fleet {
	t.Helper()
	return startFleetOn(t, startNATS(t).ClientURL(), runtimes)
}

func startFleetOn(t *testing.T, url string, runtimes int) *fleet {
	t.Helper()
	return startFleetWith(t, url, runtimes, 2*time.Second)
}

// startFleetWith starts a fleet whose runtimes hold their pins for pinTTL.
func startFleetWith(t *testing.T, url string, runtimes int, pinTTL time.Duration) *fleet {
	t.Helper()
	f := &fleet{t: t, url: url, runners: map[string]*runner{}, pinTTL: pinTTL,
		acts: &activations{t: t, host: map[string]string{}, dead: map[string]bool{}}}
	for i := range runtimes {
		f.start("rt" + strconv.Itoa(i+1))
	}
	g, err := natscluster.NewGateway(t.Context(), connect(t, f.url), natscluster.GatewayOptions{Authorizer: member(), Logger: testLogger()})
	require.NoError(t, err)
	f.wsURL = serveGateway(t, g)
	return f
}

// start runs a runtime named id, on its own NATS connections.
func (f *fleet) start(id string) {
	t := f.t
	snc := connect(t, f.url)
	sjs, err := jetstream.New(snc)
	require.NoError(t, err)
	st, err := natsstore.New(t.Context(), sjs, natsstore.Options{})
	require.NoError(t, err)
	app := zocket.NewApp(append(f.acts.hooks(id), zocket.WithStorage(st))...).
		Register("ledger", zocket.NewActor[Ledger]().Methods(apply))
	rnc := connect(t, f.url)
	rt, err := natscluster.NewRuntime(rnc, app, natscluster.RuntimeOptions{Namespace: scope, Logger: testLogger(),
		Partitions: fleetPartitions, RuntimeID: id, PinnedTTL: f.pinTTL, MemberTTL: 2 * time.Second,
		AckWait: 3 * time.Second, Streams: natscluster.StreamOptions{FileStorage: true}})
	require.NoError(t, err)
	require.NoError(t, rt.Start(t.Context()))
	f.mu.Lock()
	f.runners[id] = &runner{rt: rt, app: app, ncs: []*nats.Conn{rnc, snc}}
	f.mu.Unlock()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		rt.Stop(ctx)
		app.Close(ctx)
	})
}

// crash cuts a runtime off NATS without a graceful stop, as a killed
// process: it neither releases its partitions nor writes again.
func (f *fleet) crash(id string) {
	f.mu.Lock()
	r := f.runners[id]
	f.mu.Unlock()
	f.acts.crashed(id)
	for _, nc := range r.ncs {
		nc.Close()
	}
}

// held reports the partitions each live runtime holds.
func (f *fleet) held() map[string][]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string][]int{}
	for id, r := range f.runners {
		if !f.acts.dead[id] {
			out[id] = r.rt.HeldPartitions()
		}
	}
	return out
}

// load runs calls on n instances from several clients until stop is
// closed, and records which operations were answered.
type load struct {
	mu       sync.Mutex
	answered map[string]map[string]bool // instance → answered ops
	calls    atomic.Int64
	wg       sync.WaitGroup
}

func runLoad(t *testing.T, url string, instances, clients int, stop <-chan struct{}) *load {
	l := &load{answered: map[string]map[string]bool{}}
	for c := range clients {
		cl, err := client.Dial(t.Context(), url, client.Options{RPCTimeout: 30 * time.Second})
		require.NoError(t, err)
		t.Cleanup(func() { cl.Close() })
		for i := c; i < instances; i += clients {
			id := "i-" + strconv.Itoa(i)
			h := cl.Actor("ledger", id)
			l.wg.Go(func() {
				for k := 0; ; k++ {
					select {
					case <-stop:
						return
					default:
					}
					op := id + "#" + strconv.Itoa(k)
					if _, err := client.Call(t.Context(), h, apply, op); err != nil {
						continue // unanswered: it may or may not have run, at most once
					}
					l.calls.Add(1)
					l.mu.Lock()
					if l.answered[id] == nil {
						l.answered[id] = map[string]bool{}
					}
					l.answered[id][op] = true
					l.mu.Unlock()
				}
			})
		}
	}
	return l
}

// check reads every instance's stored state through a fresh client and
// asserts that every answered operation was applied exactly once and no
// operation twice. It returns the states it read.
func (l *load) check(t *testing.T, url string, instances int) map[string][]string {
	t.Helper()
	final := map[string][]string{}
	l.wg.Wait()
	cl, err := client.Dial(t.Context(), url, client.Options{RPCTimeout: 30 * time.Second})
	require.NoError(t, err)
	defer cl.Close()
	for i := range instances {
		id := "i-" + strconv.Itoa(i)
		h := cl.Actor("ledger", id)
		_, err := client.Call(t.Context(), h, apply, id+"#check") // the call reads what is stored
		require.NoError(t, err)
		states := make(chan Ledger, 4)
		off := client.OnState(h, func(s Ledger) { states <- s })
		s := <-states
		off()
		h.Release()
		seen := map[string]int{}
		for _, op := range s.Ops {
			seen[op]++
		}
		for op, n := range seen {
			require.Equal(t, 1, n, "%s: operation %s applied %d times", id, op, n)
		}
		for op := range l.answered[id] {
			require.Equal(t, 1, seen[op], "%s: answered operation %s is not in the state", id, op)
		}
		final[id] = s.Ops
	}
	return final
}

// watchers is a client subscribed to the state of some instances from the
// start, which never resubscribes by itself (it stays connected): what it
// sees after instances moved, it owes to the gateway sending its
// subscriptions again.
type watchers struct {
	mu     sync.Mutex
	latest map[string][]string
}

func watch(t *testing.T, url string, ids []string) *watchers {
	w := &watchers{latest: map[string][]string{}}
	cl, err := client.Dial(t.Context(), url, client.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { cl.Close() })
	for _, id := range ids {
		client.OnState(cl.Actor("ledger", id), func(s Ledger) {
			w.mu.Lock()
			w.latest[id] = s.Ops
			w.mu.Unlock()
		})
	}
	return w
}

// converged reports whether every watched instance's latest state is want's.
func (w *watchers) converged(want map[string][]string, ids []string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, id := range ids {
		if !slices.Equal(w.latest[id], want[id]) {
			return false
		}
	}
	return true
}

func spread(held map[string][]int) (total, lo, hi int) {
	lo = fleetPartitions
	for _, h := range held {
		total += len(h)
		lo, hi = min(lo, len(h)), max(hi, len(h))
	}
	return total, lo, hi
}

func TestScaleOut_ACrashedRuntimesPartitionsMoveWithoutLosingOrRepeatingCalls(t *testing.T) {
	f := startFleet(t, 3)
	const instances = 1000
	var watched []string
	for i := range 60 {
		watched = append(watched, "i-"+strconv.Itoa(i))
	}
	w := watch(t, f.wsURL, watched)
	stop := make(chan struct{})
	l := runLoad(t, f.wsURL, instances, 4, stop)
	poll.Until(t, func() bool { total, lo, _ := spread(f.held()); return total == fleetPartitions && lo > 0 },
		"every partition held, each runtime holding some")
	poll.Until(t, func() bool { return l.calls.Load() >= 3000 }, "load running")

	f.crash("rt2")
	before := l.calls.Load()
	poll.Until(t, func() bool {
		h := f.held()
		total, _, _ := spread(h)
		return total == fleetPartitions && len(h) == 2
	}, "the survivors hold every partition")
	poll.Until(t, func() bool { return l.calls.Load() >= before+3000 }, "load going on after the crash")
	close(stop)
	final := l.check(t, f.wsURL, instances)
	require.Greater(t, f.acts.count.Load(), int64(instances), "instances moved")
	poll.Until(t, func() bool { return w.converged(final, watched) }, "subscribers that did nothing converge to the stored state")
}

func TestScaleOut_ARuntimeAddedUnderLoadTakesItsShare(t *testing.T) {
	f := startFleet(t, 2)
	const instances = 300
	stop := make(chan struct{})
	l := runLoad(t, f.wsURL, instances, 3, stop)
	poll.Until(t, func() bool { total, _, _ := spread(f.held()); return total == fleetPartitions }, "every partition held")
	poll.Until(t, func() bool { return l.calls.Load() >= 1000 }, "load running")

	f.start("rt3")
	poll.Until(t, func() bool {
		h := f.held()
		total, lo, hi := spread(h)
		return len(h) == 3 && total == fleetPartitions && lo > 0 && hi-lo <= fleetPartitions/2
	}, "partitions rebalanced over three runtimes")
	before := l.calls.Load()
	poll.Until(t, func() bool { return l.calls.Load() >= before+1000 }, "load going on after the rebalance")
	close(stop)
	l.check(t, f.wsURL, instances)
}

func TestScaleOut_RendezvousSpreadsPartitionsEvenly(t *testing.T) {
	// The assignment itself is checked through running runtimes above;
	// here its balance over many partition counts, without NATS.
	for _, members := range [][]string{{"a", "b"}, {"a", "b", "c"}, {"rt1", "rt2", "rt3", "rt4", "rt5"}} {
		counts := map[string]int{}
		for n := range 64 {
			counts[natscluster.RendezvousOwner(members, n)]++
		}
		var got []int
		for _, m := range members {
			got = append(got, counts[m])
		}
		lo, hi := slices.Min(got), slices.Max(got)
		require.LessOrEqual(t, hi-lo, 64/len(members), fmt.Sprint(members, got))
		require.Positive(t, lo)
	}
}

func TestScaleOut_NATSRestartKeepsDurableStateAndClientsResubscribe(t *testing.T) {
	srv := startRestartableNATS(t)
	f := startFleetOn(t, srv.ClientURL(), 2)

	cl, err := client.Dial(t.Context(), f.wsURL, client.Options{RPCTimeout: 2 * time.Second,
		ReconnectDelay: func(int) time.Duration { return 20 * time.Millisecond }})
	require.NoError(t, err)
	defer cl.Close()
	h := cl.Actor("ledger", "kept")
	var latest atomic.Pointer[Ledger]
	client.OnState(h, func(s Ledger) { latest.Store(&s) })
	var answered []string
	for i := range 5 {
		op := "before-" + strconv.Itoa(i)
		_, err := client.Call(t.Context(), h, apply, op)
		require.NoError(t, err)
		answered = append(answered, op)
	}

	srv.restart(t)

	deadline := time.Now().Add(time.Minute)
	for i := 0; len(answered) < 10; i++ { // calls fail while everything reconnects
		require.True(t, time.Now().Before(deadline), "calls never succeeded again")
		op := "after-" + strconv.Itoa(i)
		if _, err := client.Call(t.Context(), h, apply, op); err == nil {
			answered = append(answered, op)
		}
	}
	poll.Until(t, func() bool {
		s := latest.Load()
		return s != nil && len(s.Ops) > 0 && s.Ops[len(s.Ops)-1] == answered[len(answered)-1]
	}, "the subscriber sees the last answered operation")
	got := latest.Load().Ops
	for _, op := range answered {
		require.Equal(t, 1, countOf(got, op), "%s kept once", op)
	}
	require.Equal(t, answered[:5], got[:5], "the state from before the restart survived")
}

func countOf(ops []string, op string) (n int) {
	for _, o := range ops {
		if o == op {
			n++
		}
	}
	return n
}

// A graceful handover unpins: the runtime taking a partition over gets its
// messages at once, not after the pin's TTL, which here is longer than the
// test may run.
func TestScaleOut_HandoverDoesNotWaitForThePinsTTL(t *testing.T) {
	f := startFleetWith(t, startNATS(t).ClientURL(), 1, 10*time.Minute)
	cl, err := client.Dial(t.Context(), f.wsURL, client.Options{})
	require.NoError(t, err)
	defer cl.Close()
	for i := range 20 {
		_, err := client.Call(t.Context(), cl.Actor("ledger", "h-"+strconv.Itoa(i)), apply, "first")
		require.NoError(t, err)
	}
	requireHolds(t, f.held()["rt1"], 20)
	before := len(f.held()["rt1"])

	f.start("rt2")
	poll.Until(t, func() bool { return len(f.held()["rt1"]) < before }, "rt1 gave partitions up")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute) // far below the TTL
	defer cancel()
	for i := range 20 {
		n, err := client.Call(ctx, cl.Actor("ledger", "h-"+strconv.Itoa(i)), apply, "second")
		require.NoError(t, err)
		require.Equal(t, 2, n, "h-%d kept its state across the move", i)
	}
	require.NotEmpty(t, f.held()["rt2"], "rt2 took partitions over")

	f.mu.Lock()
	rt1 := f.runners["rt1"]
	f.mu.Unlock()
	require.NoError(t, rt1.rt.Stop(ctx))
	f.acts.crashed("rt1") // stopped: it hosts nothing
	for i := range 20 {
		n, err := client.Call(ctx, cl.Actor("ledger", "h-"+strconv.Itoa(i)), apply, "third")
		require.NoError(t, err)
		require.Equal(t, 3, n)
	}
	requireHolds(t, f.held()["rt2"], 20)
}

// requireHolds asserts that held has the partitions of instances h-0 to
// h-(n-1): a runtime holds a partition once it received its messages.
func requireHolds(t *testing.T, held []int, n int) {
	t.Helper()
	for i := range n {
		p := natscluster.Partition(scope, "ledger", "h-"+strconv.Itoa(i), fleetPartitions)
		require.Contains(t, held, p, "the partition of h-%d", i)
	}
}
