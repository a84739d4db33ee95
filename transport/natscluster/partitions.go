package natscluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// partitions runs a partitioned runtime's side of the actor space
// (RuntimeOptions.Partitions): it lists the runtime in RuntimesBucket,
// computes the partitions this runtime should hold from the live members
// (rendezvous hashing, the same answer on every runtime), pulls each of
// them from its pinned_client consumer, and releases those it should no
// longer hold. JetStream's pin, not this code, makes a partition's
// messages reach one runtime at a time; the storage's version check stops
// a runtime that lost its pin from overwriting newer state.
type partitions struct {
	r     *Runtime
	count int
	kv    jetstream.KeyValue
	key   string
	held  []atomic.Bool // pinned for: its messages reached this runtime
	wake  chan struct{} // the entry changed: publish it now
	taken chan struct{} // a partition was taken: read the stored alarms again
	stop  chan struct{}
	ran   chan struct{} // closed when run returned

	mu      sync.Mutex
	pulling map[int]*pull // partitions this runtime pulls or is releasing
	members int           // live runtimes at the last count, this one included
	stopped bool
}

// maxPullWait bounds how long one pull request waits for messages, and so
// how long a handover waits for the last request to end.
const maxPullWait = time.Second

// pull is one partition's pull loop.
type pull struct {
	stopping  atomic.Bool   // no more pull requests
	done      chan struct{} // closed when the loop ended
	releasing bool          // partitions.mu
}

func newPartitions(r *Runtime) *partitions {
	return &partitions{r: r, count: r.opts.Partitions, key: MemberKey(r.opts.Namespace, r.opts.RuntimeID),
		held: make([]atomic.Bool, r.opts.Partitions), wake: make(chan struct{}, 1), taken: make(chan struct{}, 1),
		stop: make(chan struct{}),
		ran:  make(chan struct{}), pulling: map[int]*pull{}}
}

// start creates the membership bucket and every partition's consumer,
// makes the App activate only instances of held partitions, lists this
// runtime and starts pulling its share. The bucket keeps a few values per
// key, so that a gateway watching it sees a claim quickly followed by a
// release as both.
func (p *partitions) start(ctx context.Context) error {
	r := p.r
	kv, err := p.openBucket(ctx)
	if err != nil {
		return err
	}
	p.kv = kv
	for n := range p.count {
		if _, err := p.consumer(ctx, n); err != nil {
			return err
		}
	}
	r.app.SetPlacement(func(actor, id string) bool { return p.held[Partition(r.opts.Namespace, actor, id, p.count)].Load() })
	if err := p.refresh(ctx); err != nil {
		return err
	}
	r.done.Go(p.run)
	r.done.Go(p.reloadAlarms)
	return nil
}

// openBucket creates the membership bucket where it is missing, and opens
// it.
func (p *partitions) openBucket(ctx context.Context) (jetstream.KeyValue, error) {
	storage := jetstream.MemoryStorage
	if p.r.opts.Streams.FileStorage {
		storage = jetstream.FileStorage
	}
	kv, err := p.r.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: RuntimesBucket, TTL: p.r.opts.MemberTTL,
		Storage: storage, History: 4})
	if errors.Is(err, jetstream.ErrBucketExists) {
		kv, err = p.r.js.KeyValue(ctx, RuntimesBucket)
	}
	if err != nil {
		return nil, fmt.Errorf("natscluster: membership bucket: %w", err)
	}
	return kv, nil
}

// consumer creates or updates partition n's durable consumer.
func (p *partitions) consumer(ctx context.Context, n int) (jetstream.Consumer, error) {
	ns := p.r.opts.Namespace
	cons, err := p.r.js.CreateOrUpdateConsumer(ctx, InboundStream, jetstream.ConsumerConfig{
		Durable:        PartitionConsumerName(ns, n),
		FilterSubject:  PartitionFilter(ns, n),
		AckPolicy:      jetstream.AckExplicitPolicy,
		MaxAckPending:  256,
		AckWait:        p.r.opts.AckWait,
		PriorityPolicy: jetstream.PriorityPolicyPinned,
		PriorityGroups: []string{PinGroup},
		PinnedTTL:      p.r.opts.PinnedTTL,
	})
	if err != nil {
		return nil, fmt.Errorf("natscluster: consumer for partition %d: %w", n, err)
	}
	return cons, nil
}

// run refreshes the membership entry a few times per MemberTTL, and at
// once when the held partitions change, until stop.
func (p *partitions) run() {
	defer close(p.ran)
	t := time.NewTicker(p.r.opts.MemberTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		case <-p.wake:
		}
		ctx, cancel := context.WithTimeout(context.Background(), p.r.opts.MemberTTL)
		if err := p.refresh(ctx); err != nil {
			p.r.opts.Logger.Warn("natscluster: runtime cannot refresh its membership", "err", err)
		}
		cancel()
	}
}

// refresh publishes this runtime's entry, reads the live members and pulls
// exactly the partitions rendezvous hashing gives this runtime. A bucket
// that is gone (a NATS restart loses one in memory) is created again.
func (p *partitions) refresh(ctx context.Context) error {
	entry, _ := json.Marshal(MemberEntry{RuntimeID: p.r.opts.RuntimeID, Partitions: p.count, Held: p.holding()})
	if _, err := p.kv.Put(ctx, p.key, entry); err != nil {
		kv, oerr := p.openBucket(ctx)
		if oerr != nil {
			return fmt.Errorf("natscluster: publish membership: %w", errors.Join(err, oerr))
		}
		p.kv = kv
		if _, err := p.kv.Put(ctx, p.key, entry); err != nil {
			return fmt.Errorf("natscluster: publish membership: %w", err)
		}
	}
	members, err := p.liveMembers(ctx)
	if err != nil {
		return err
	}
	p.reconcile(ctx, members)
	return nil
}

// liveMembers lists the runtimes of the scope whose entry is younger than
// MemberTTL (the bucket drops older ones, but not at once).
func (p *partitions) liveMembers(ctx context.Context) ([]string, error) {
	ns := p.r.opts.Namespace
	prefix := ns.WorkspaceID + "." + ns.ProjectID + "."
	keys, err := p.kv.ListKeysFiltered(ctx, prefix+"*")
	if err != nil && !errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, fmt.Errorf("natscluster: list members: %w", err)
	}
	members := []string{p.r.opts.RuntimeID}
	for k := range keys.Keys() {
		id := k[len(prefix):]
		if id == p.r.opts.RuntimeID {
			continue
		}
		e, err := p.kv.Get(ctx, k)
		if err != nil {
			continue // deleted or aged out meanwhile
		}
		if time.Since(e.Created()) < p.r.opts.MemberTTL {
			members = append(members, id)
		}
	}
	return members, nil
}

// reconcile starts pulling the partitions this runtime should hold and
// releases the others.
func (p *partitions) reconcile(ctx context.Context, members []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.members = len(members)
	for n := range p.count {
		mine := owner(members, n) == p.r.opts.RuntimeID
		pl := p.pulling[n]
		switch {
		case mine && pl == nil:
			p.startLocked(n)
		case !mine && pl != nil && !pl.releasing:
			pl.releasing = true
			p.r.done.Go(func() { p.release(n, pl) })
		}
	}
}

// owner is the member with the highest rendezvous hash for partition n.
func owner(members []string, n int) string {
	var best string
	var top uint64
	for _, m := range members {
		h := fnv.New64a()
		h.Write([]byte(m + "/" + strconv.Itoa(n)))
		if s := mix(h.Sum64()); best == "" || s > top || (s == top && m > best) {
			best, top = m, s
		}
	}
	return best
}

// mix is splitmix64's finalizer: FNV-1a alone barely separates names
// that differ in one byte, and rendezvous hashing needs the scores of one
// partition to look independent across members.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// startLocked starts partition n's pull loop. The caller holds p.mu.
func (p *partitions) startLocked(n int) {
	pl := &pull{done: make(chan struct{})}
	p.pulling[n] = pl
	p.r.done.Go(func() { p.pullLoop(n, pl) })
}

// pullLoop pulls partition n in the priority group until it is released
// or the runtime stops. Each pull request waits at most a third of the
// pin's TTL (and at most maxPullWait), so an idle holder renews its pin in
// time; a released partition's last request ends within that time, and
// everything it delivered is handled: nothing is left in flight to a
// runtime that stopped listening.
func (p *partitions) pullLoop(n int, pl *pull) {
	defer close(pl.done)
	wait := min(p.r.opts.PinnedTTL/3, maxPullWait)
	var cons jetstream.Consumer
	claimed := false // the claim message is published
	gone := false    // the consumer vanished: maybe with the streams
	for !pl.stopping.Load() {
		if !claimed {
			claimed = p.publishClaim(n) == nil
		}
		var err error
		if cons == nil {
			ctx, cancel := context.WithTimeout(context.Background(), p.r.opts.MemberTTL)
			if gone { // a NATS restart loses streams in memory; a gateway may have created INBOUND without the transform
				_, err = EnsureStreamsWith(ctx, p.r.js, p.r.opts.Streams)
			}
			if err == nil {
				cons, err = p.consumer(ctx, n)
			}
			cancel()
		}
		var batch jetstream.MessageBatch
		if err == nil {
			batch, err = cons.Fetch(256, jetstream.FetchMaxWait(wait), jetstream.FetchPriorityGroup(PinGroup))
		}
		if err == nil {
			for m := range batch.Messages() {
				p.claim(n)
				if m.Headers().Get(headerClaim) != "" {
					m.Ack()
					continue
				}
				p.r.handle(m)
			}
			err = batch.Error()
		}
		switch {
		case err == nil:
			continue
		case errors.Is(err, jetstream.ErrPinIDMismatch):
			p.lostPin(n)
			continue
		case consumerGone(err):
			cons, gone = nil, true // re-created on the next turn
		}
		p.r.opts.Logger.Debug("natscluster: runtime partition pull", "partition", n, "err", err)
		select { // NATS unreachable, or the consumer gone: do not spin
		case <-p.stop:
			return
		case <-time.After(wait):
		}
	}
}

// claim marks partition n held when one of its messages arrives: the
// server delivers only to the pinned client.
func (p *partitions) claim(n int) {
	if p.held[n].Swap(true) {
		return
	}
	p.r.opts.Logger.Info("natscluster: runtime holds a partition", "partition", n)
	p.changed()
	select { // one reload covers every partition taken meanwhile
	case p.taken <- struct{}{}:
	default:
	}
}

// reloadAlarms reads the stored alarms again whenever partitions were
// taken, so that the alarms of their instances fire here, until stop. A
// runtime taking many partitions at once (at start, or after a crash of
// another) reads them once or twice, not once per partition.
func (p *partitions) reloadAlarms() {
	for {
		select {
		case <-p.stop:
			return
		case <-p.taken:
		}
		ctx, cancel := context.WithTimeout(context.Background(), p.r.opts.MemberTTL)
		err := p.r.app.ReloadAlarms(ctx)
		cancel()
		if err == nil {
			continue
		}
		p.r.opts.Logger.Warn("natscluster: runtime cannot load the alarms of the partitions it took; trying again", "err", err)
		select { // the storage may be back in a moment
		case <-p.stop:
			return
		case <-time.After(time.Second):
			select {
			case p.taken <- struct{}{}:
			default: // a take since: it reloads anyway
			}
		}
	}
}

// lostPin handles a pull refused with ErrPinIDMismatch: another runtime
// holds partition n's pin now. This one gives the partition's instances
// up (their writes would fail the storage's version check anyway) and
// keeps pulling as a candidate.
func (p *partitions) lostPin(n int) {
	if !p.held[n].Load() {
		return
	}
	p.r.opts.Logger.Warn("natscluster: runtime lost the pin of a partition; passivating its instances", "partition", n)
	p.passivate(n)
	p.changed()
	p.publishClaim(n) // the pin may have expired with nobody pinned since
}

// release hands partition n over: stop pulling and handle what was
// delivered, passivate its instances (their last changes written), then
// unpin, so that the runtime waiting for it receives the held messages at
// once instead of after the pin's TTL.
func (p *partitions) release(n int, pl *pull) {
	pl.stopping.Store(true)
	<-pl.done
	held := p.held[n].Load()
	p.passivate(n)
	if held {
		ctx, cancel := context.WithTimeout(context.Background(), p.r.opts.MemberTTL)
		if s, err := p.r.js.Stream(ctx, InboundStream); err == nil {
			err = s.UnpinConsumer(ctx, PartitionConsumerName(p.r.opts.Namespace, n), PinGroup)
			if err != nil {
				p.r.opts.Logger.Debug("natscluster: runtime unpin", "partition", n, "err", err)
			}
		}
		cancel()
		p.publishClaim(n) // nobody is pinned: the next runtime to pull takes it
	}
	p.mu.Lock()
	if p.pulling[n] == pl {
		delete(p.pulling, n)
	}
	p.mu.Unlock()
	p.r.opts.Logger.Info("natscluster: runtime released a partition", "partition", n)
	p.changed()
}

// passivate marks partition n not held and destroys its live instances,
// which writes their pending changes.
func (p *partitions) passivate(n int) {
	ns := p.r.opts.Namespace
	ctx, cancel := context.WithTimeout(context.Background(), p.r.opts.AckWait)
	defer cancel()
	p.held[n].Store(false)
	for _, in := range p.r.app.Instances() {
		if Partition(ns, in.Actor, in.ID, p.count) == n {
			if err := p.r.app.Destroy(ctx, in.Actor, in.ID); err != nil {
				p.r.opts.Logger.Debug("natscluster: runtime passivating", "actor", in.Actor, "actorId", in.ID, "err", err)
			}
		}
	}
}

// changed asks run to publish the entry now.
func (p *partitions) changed() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// holding lists the partitions this runtime holds, in increasing order.
func (p *partitions) holding() []int {
	var held []int
	for n := range p.held {
		if p.held[n].Load() {
			held = append(held, n)
		}
	}
	return held
}

// shutdown releases every partition (in parallel) and removes this
// runtime's entry, so that the others take over without waiting for the
// pin's TTL.
func (p *partitions) shutdown(ctx context.Context) error {
	p.mu.Lock()
	p.stopped = true
	var wg sync.WaitGroup
	for n, pl := range p.pulling {
		if !pl.releasing {
			pl.releasing = true
			wg.Go(func() { p.release(n, pl) })
		}
	}
	p.mu.Unlock()
	close(p.stop)
	wg.Wait()
	<-p.ran // no refresh writes the entry again after the delete
	if err := p.kv.Delete(ctx, p.key); err != nil {
		return fmt.Errorf("natscluster: leave membership: %w", err)
	}
	return nil
}

// status reports the held partitions and the live members for /health.
func (p *partitions) status() (held []int, members int) {
	p.mu.Lock()
	members = p.members
	p.mu.Unlock()
	return p.holding(), members
}

// HeldPartitions lists the partitions this runtime holds, in increasing
// order; nil for a runtime without RuntimeOptions.Partitions.
func (r *Runtime) HeldPartitions() []int {
	r.mu.Lock()
	p := r.parts
	r.mu.Unlock()
	if p == nil {
		return nil
	}
	return p.holding()
}
