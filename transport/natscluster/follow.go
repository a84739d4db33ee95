package natscluster

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/protocol"
)

// Subscriptions follow moved instances. In a partitioned deployment each
// partition of a scope's instances is held by one runtime at a time, and
// RuntimesBucket lists who holds what. When a partition changes hands, the
// new holder activates its instances from storage but does not know who
// subscribed to them. So the gateway remembers each session's subscription
// frames and, when a partition that had a holder changes hands, publishes
// them again exactly as if the client had sent them: the new holder answers
// with a snapshot (or the patches after the version a state:sub names).

// defaultMembershipRetry is GatewayOptions.MembershipRetry's default.
const defaultMembershipRetry = 2 * time.Second

// maxFollowedFrame is the largest subscription frame the gateway
// remembers. Subscription frames are small; a larger one is published but
// not remembered, so that a client cannot make the gateway hold
// MaxSubscriptions frames of ReadLimit bytes each.
const maxFollowedFrame = 4 << 10

// errWatchEnded reports a membership watch whose updates stopped.
var errWatchEnded = errors.New("natscluster: membership watch ended")

// follows is a session's live subscriptions by instance: the frames that
// created them, kept to be published again when their instance moves.
type follows struct {
	mu     sync.Mutex
	closed bool // the session ended: nothing is tracked or re-sent
	subs   map[instanceKey]*followed
	n      int // frames held, bounded by GatewayOptions.MaxSubscriptions
}

type instanceKey struct{ actor, id string }

// followed is one instance's subscriptions.
type followed struct {
	hash  uint32 // FNV-1a of the inbound subject: the partition among P is hash % P
	state []byte // the client's last state:sub, nil when not subscribed
	event []byte // the client's last event:sub, nil when not subscribed
}

// frame returns the slot of the state or event frame.
func (f *followed) frame(state bool) *[]byte {
	if state {
		return &f.state
	}
	return &f.event
}

// track remembers a subscription frame the session is publishing to
// subject, or forgets the subscription an unsub frame ends. Other frames
// cost one comparison. It runs before the frame is published, so a
// re-send cannot overtake the client's unsub.
func (s *session) track(head frameHead, subject string, frame []byte) {
	if head.Type == nil {
		return
	}
	var state, sub bool
	switch protocol.Type(*head.Type) {
	case protocol.TypeStateSub:
		state, sub = true, true
	case protocol.TypeStateUnsub:
		state = true
	case protocol.TypeEventSub:
		sub = true
	case protocol.TypeEventUnsub:
	default:
		return
	}
	k := instanceKey{*head.Actor, *head.ActorID}
	f := &s.follow
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	fo := f.subs[k]
	if !sub {
		if fo == nil {
			return
		}
		if slot := fo.frame(state); *slot != nil {
			*slot = nil
			f.n--
		}
		if fo.state == nil && fo.event == nil {
			delete(f.subs, k)
		}
		return
	}
	if len(frame) > maxFollowedFrame {
		s.g.opts.Logger.Debug("natscluster: gateway will not re-send a subscription frame this large",
			"sessionId", s.id, "bytes", len(frame), "actor", k.actor, "actorId", k.id)
		return
	}
	if fo == nil || *fo.frame(state) == nil {
		if limit := s.g.opts.MaxSubscriptions; limit > 0 && f.n >= limit {
			s.g.opts.Logger.Debug("natscluster: gateway will not re-send a subscription beyond the limit",
				"sessionId", s.id, "limit", limit, "actor", k.actor, "actorId", k.id)
			return
		}
		f.n++
	}
	if fo == nil {
		if f.subs == nil {
			f.subs = map[instanceKey]*followed{}
		}
		fo = &followed{hash: subjectHash(subject)}
		f.subs[k] = fo
	}
	*fo.frame(state) = frame
}

// close forgets every subscription of a session that ended.
func (f *follows) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed, f.subs, f.n = true, nil, 0
}

// inboundMsg is the INBOUND message of a client frame on an instance.
func (s *session) inboundMsg(actor, actorID string, frame []byte) *nats.Msg {
	env := append(append(append(make([]byte, 0, len(s.head)+len(frame)+1), s.head...), frame...), '}')
	m := &nats.Msg{Subject: InboundSubject(s.auth.Namespace, actor, actorID), Data: env}
	m.Header = s.g.header // shared: never modified
	return m
}

// resubscribe publishes again the session's subscription frames on
// instances of the moved partitions (their counts are the partition
// counts in use), appending the publishes to futs. It publishes under the
// lock track takes, so an unsub the client sends meanwhile is published
// after the re-sent sub. It returns how many publishes were refused.
func (s *session) resubscribe(moved map[slot]struct{}, counts []int, futs []jetstream.PubAckFuture) ([]jetstream.PubAckFuture, int) {
	f := &s.follow
	f.mu.Lock()
	defer f.mu.Unlock()
	failed := 0
	for k, fo := range f.subs {
		if !movedWith(moved, s.auth.Namespace, counts, fo.hash) {
			continue
		}
		for _, frame := range [][]byte{fo.state, fo.event} {
			if frame == nil {
				continue
			}
			fut, err := s.g.js.PublishMsgAsync(s.inboundMsg(k.actor, k.id, frame))
			if err != nil {
				failed++
				continue
			}
			futs = append(futs, fut)
		}
	}
	return futs, failed
}

// movedWith reports whether the instance with this subject hash is in a
// moved partition.
func movedWith(moved map[slot]struct{}, ns Namespace, counts []int, hash uint32) bool {
	for _, c := range counts {
		if _, ok := moved[slot{ns, c, int(hash % uint32(c))}]; ok {
			return true
		}
	}
	return false
}

// slot is one partition of a scope cut into count partitions.
type slot struct {
	ns    Namespace
	count int
	p     int
}

// member is a runtime's MemberEntry as the gateway last saw it.
type member struct {
	slots []slot
	rev   uint64
	// seen is when the gateway received the entry (its own clock: the
	// server's may differ). Past the bucket's TTL the gateway asks the
	// server whether the key still exists.
	seen time.Time
}

// follower watches RuntimesBucket and re-sends the subscriptions of the
// partitions that change hands. Its state belongs to its goroutine.
type follower struct {
	g       *Gateway
	cancel  context.CancelFunc
	done    sync.WaitGroup
	members map[string]*member // by key
	holders map[slot]int       // how many members hold each partition
}

// startFollowing applies the defaults of MaxSubscriptions and
// MembershipRetry and starts the membership watch, which stop ends.
func (g *Gateway) startFollowing() {
	if g.opts.MaxSubscriptions == 0 {
		g.opts.MaxSubscriptions = zocket.DefaultMaxSubscriptions
	}
	if g.opts.MembershipRetry <= 0 {
		g.opts.MembershipRetry = defaultMembershipRetry
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &follower{g: g, cancel: cancel, members: map[string]*member{}, holders: map[slot]int{}}
	f.done.Go(func() { f.run(ctx) })
	g.follow = f
}

// stop ends the watch and waits for it; a nil follower is stopped.
func (f *follower) stop() {
	if f == nil {
		return
	}
	f.cancel()
	f.done.Wait()
}

// run watches the bucket until ctx ends, waiting for it to exist and
// watching again after an error. It logs the first error of a series at
// warning level, the others at debug level.
func (f *follower) run(ctx context.Context) {
	retry := time.NewTimer(0)
	defer retry.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-retry.C:
		}
		watched, err := f.watch(ctx)
		if ctx.Err() != nil {
			return
		}
		failing = failing && !watched
		level := slog.LevelDebug
		if !failing && !errors.Is(err, jetstream.ErrBucketNotFound) {
			level, failing = slog.LevelWarn, true
		}
		f.g.opts.Logger.Log(ctx, level, "natscluster: gateway membership watch failed; retrying", "err", err)
		retry.Reset(f.g.opts.MembershipRetry)
	}
}

// watch follows the bucket until ctx ends or the watch fails, and tells
// whether it got to watch. Members the gateway knew of and that are
// missing from the bucket's current values left while it was not
// watching.
func (f *follower) watch(ctx context.Context) (watched bool, err error) {
	kv, err := f.g.js.KeyValue(ctx, RuntimesBucket)
	if err != nil {
		return false, err
	}
	status, err := kv.Status(ctx)
	if err != nil {
		return false, err
	}
	ttl := status.TTL()
	// With history, the watch sees every write the bucket keeps, not only
	// each key's latest: with a History of 2 or more, a claim quickly
	// followed by a release is not seen as the release alone.
	w, err := kv.WatchAll(ctx, jetstream.IncludeHistory())
	if err != nil {
		return false, err
	}
	defer w.Stop()
	var check <-chan time.Time
	if ttl > 0 { // a dead runtime's key ages out, maybe without a marker
		t := time.NewTicker(max(ttl/4, 10*time.Millisecond))
		defer t.Stop()
		check = t.C
	}
	initial := map[string]bool{} // keys in the current values; nil once they are all in
	for {
		select {
		case <-ctx.Done():
			return true, nil
		case e, ok := <-w.Updates():
			switch {
			case !ok:
				return true, errWatchEnded
			case e == nil:
				for key := range f.members {
					if !initial[key] {
						f.resubscribe(ctx, f.apply(key, nil))
					}
				}
				initial = nil
			default:
				if initial != nil {
					initial[e.Key()] = true
				}
				f.update(ctx, e)
			}
		case <-check:
			f.expire(ctx, kv, ttl)
		}
	}
}

// update applies one entry of the bucket.
func (f *follower) update(ctx context.Context, e jetstream.KeyValueEntry) {
	key := e.Key()
	if old := f.members[key]; old != nil && e.Revision() <= old.rev {
		return // already applied
	}
	if e.Operation() != jetstream.KeyValuePut {
		f.resubscribe(ctx, f.apply(key, nil))
		return
	}
	parts := strings.SplitN(key, ".", 3)
	if len(parts) < 3 {
		return
	}
	ns := Namespace{WorkspaceID: parts[0], ProjectID: parts[1]}
	m := &member{rev: e.Revision(), seen: time.Now()}
	var entry MemberEntry
	if err := json.Unmarshal(e.Value(), &entry); err != nil {
		f.g.opts.Logger.Warn("natscluster: gateway read an undecodable membership entry as holding nothing", "key", key, "err", err)
	}
	for _, p := range entry.Held {
		s := slot{ns, entry.Partitions, p}
		if p >= 0 && p < entry.Partitions && !slices.Contains(m.slots, s) {
			m.slots = append(m.slots, s)
		}
	}
	f.resubscribe(ctx, f.apply(key, m))
}

// expire asks the server about the members not updated for longer than
// the bucket's TTL: those whose key is gone released their partitions.
func (f *follower) expire(ctx context.Context, kv jetstream.KeyValue, ttl time.Duration) {
	now := time.Now()
	for key, m := range f.members {
		if now.Sub(m.seen) <= ttl {
			continue
		}
		gctx, cancel := context.WithTimeout(ctx, f.g.opts.PublishTimeout)
		e, err := kv.Get(gctx, key)
		cancel()
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			f.resubscribe(ctx, f.apply(key, nil))
		case err != nil:
			f.g.opts.Logger.Debug("natscluster: gateway could not check a membership entry", "key", key, "err", err)
		default:
			f.update(ctx, e) // an update the watch has not delivered yet, or the same one
		}
	}
}

// apply records that key now holds next's partitions (nil: none, it left)
// and returns the partitions that changed hands: those it released, and
// those it joined while another member held them. A partition it is the
// first to hold has not moved: its subscriptions are already there.
func (f *follower) apply(key string, next *member) []slot {
	var old []slot
	if m := f.members[key]; m != nil {
		old = m.slots
	}
	if next == nil {
		delete(f.members, key)
	} else {
		f.members[key] = next
	}
	var moved []slot
	for _, s := range old {
		if next == nil || !slices.Contains(next.slots, s) {
			moved = append(moved, s)
			if f.holders[s]--; f.holders[s] <= 0 {
				delete(f.holders, s)
			}
		}
	}
	if next != nil {
		for _, s := range next.slots {
			if !slices.Contains(old, s) {
				if f.holders[s] > 0 {
					moved = append(moved, s)
				}
				f.holders[s]++
			}
		}
	}
	return moved
}

// resubscribe re-sends every open session's subscriptions on instances of
// the moved partitions and waits for the publishes, or for ctx.
func (f *follower) resubscribe(ctx context.Context, moved []slot) {
	if len(moved) == 0 {
		return
	}
	g := f.g
	set := make(map[slot]struct{}, len(moved))
	counts := map[Namespace][]int{}
	for _, s := range moved {
		set[s] = struct{}{}
		if !slices.Contains(counts[s.ns], s.count) {
			counts[s.ns] = append(counts[s.ns], s.count)
		}
	}
	g.mu.Lock()
	sessions := make([]*session, 0, len(g.sessions))
	for _, s := range g.sessions {
		if counts[s.auth.Namespace] != nil {
			sessions = append(sessions, s)
		}
	}
	g.mu.Unlock()
	var futs []jetstream.PubAckFuture
	sent, failed := 0, 0
	for _, s := range sessions {
		var refused int
		futs, refused = s.resubscribe(set, counts[s.auth.Namespace], futs)
		failed += refused
		if len(futs) >= maxInflight*16 { // bound what waits for a PubAck
			sent += len(futs)
			failed += f.await(ctx, futs)
			futs = futs[:0]
		}
	}
	sent += len(futs)
	failed += f.await(ctx, futs)
	g.opts.Logger.Info("natscluster: gateway re-sent the subscriptions of partitions that changed hands",
		"partitions", len(moved), "frames", sent, "failed", failed)
}

// await waits for the PubAcks of re-sent frames, for PublishTimeout in
// all or until ctx ends, and returns how many failed or were not
// acknowledged in time.
func (f *follower) await(ctx context.Context, futs []jetstream.PubAckFuture) int {
	timer := time.NewTimer(f.g.opts.PublishTimeout)
	defer timer.Stop()
	failed := 0
	for i, fut := range futs {
		select {
		case <-fut.Ok():
		case <-fut.Err():
			failed++
		case <-timer.C:
			return failed + len(futs) - i
		case <-ctx.Done():
			return failed + len(futs) - i
		}
	}
	return failed
}
