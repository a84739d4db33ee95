package natscluster_test

// These tests pin down the JetStream behaviour that the scale-out design
// (docs/design/scale-out.md) builds on: priority groups with the
// pinned_client policy on a durable pull consumer, and a stream subject
// transform with partition(). They test the engine, not this package, so
// that an upgrade of nats-server or nats.go that changes the behaviour is
// caught here rather than in production.

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/transport/natscluster"
)

const (
	pinStream   = "PIN"
	pinConsumer = "partition-0"
	pinGroup    = "runtimes"
	// eventWait bounds every wait for something the server must do; the
	// tests wait for the event, never for a time.
	eventWait = 10 * time.Second
)

// pinned creates a work-queue stream and a durable pull consumer with the
// priority group pinGroup and the pinned_client policy.
func pinned(t *testing.T, url string, ttl time.Duration) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(connect(t, url))
	require.NoError(t, err)
	_, err = js.CreateStream(t.Context(), jetstream.StreamConfig{Name: pinStream, Subjects: []string{"pin.>"},
		Retention: jetstream.WorkQueuePolicy, Storage: jetstream.MemoryStorage})
	require.NoError(t, err)
	_, err = js.CreateOrUpdateConsumer(t.Context(), pinStream, jetstream.ConsumerConfig{
		Durable: pinConsumer, AckPolicy: jetstream.AckExplicitPolicy,
		PriorityPolicy: jetstream.PriorityPolicyPinned, PinnedTTL: ttl, PriorityGroups: []string{pinGroup},
	})
	require.NoError(t, err)
	return js
}

// puller is one runtime-like client of the pinned consumer, on its own
// connection, with its own consumer handle (which remembers its pin id).
type puller struct {
	cons jetstream.Consumer
	cc   jetstream.ConsumeContext
	got  chan string
	errs chan error // what the consume loop reports besides messages
}

func newPuller(t *testing.T, url string) *puller {
	t.Helper()
	js, err := jetstream.New(connect(t, url))
	require.NoError(t, err)
	cons, err := js.Consumer(t.Context(), pinStream, pinConsumer)
	require.NoError(t, err)
	return &puller{cons: cons, got: make(chan string, 1000), errs: make(chan error, 100)}
}

// consume starts pulling in the priority group, acking every message.
func (p *puller) consume(t *testing.T) {
	t.Helper()
	cc, err := p.cons.Consume(func(m jetstream.Msg) {
		_ = m.Ack()
		p.got <- string(m.Data())
	}, jetstream.PullPriorityGroup(pinGroup), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		select {
		case p.errs <- err:
		default:
		}
	}))
	require.NoError(t, err)
	p.cc = cc
	t.Cleanup(cc.Stop)
}

// stop stops pulling and waits until the subscription is closed.
func (p *puller) stop() {
	p.cc.Stop()
	<-p.cc.Closed()
}

// waitFor polls cond until it holds or eventWait passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	require.Eventually(t, cond, eventWait, 5*time.Millisecond, what)
}

// waitingPulls reports whether the consumer holds at least n pull requests.
func waitingPulls(t *testing.T, js jetstream.JetStream, n int) func() bool {
	return func() bool {
		c, err := js.Consumer(t.Context(), pinStream, pinConsumer)
		return err == nil && c.CachedInfo().NumWaiting >= n
	}
}

func pinID(t *testing.T, js jetstream.JetStream) string {
	t.Helper()
	c, err := js.Consumer(t.Context(), pinStream, pinConsumer)
	require.NoError(t, err)
	groups := c.CachedInfo().PriorityGroups
	require.Len(t, groups, 1)
	assert.Equal(t, pinGroup, groups[0].Group)
	return groups[0].PinnedClientID
}

func publish(t *testing.T, js jetstream.JetStream, data string) {
	t.Helper()
	_, err := js.Publish(t.Context(), "pin.x", []byte(data))
	require.NoError(t, err)
}

// receive waits for the next message of p.
func receive(t *testing.T, p *puller) string {
	t.Helper()
	select {
	case m := <-p.got:
		return m
	case <-time.After(eventWait):
		t.Fatal("no message within the bound")
		return ""
	}
}

// firstPinned publishes one message with both pullers pulling and returns
// the one that received it (the pinned one) and the other.
func firstPinned(t *testing.T, js jetstream.JetStream, a, b *puller) (pin, other *puller) {
	t.Helper()
	waitFor(t, "both clients have pull requests waiting", waitingPulls(t, js, 2))
	publish(t, js, "first")
	select {
	case <-a.got:
		return a, b
	case <-b.got:
		return b, a
	case <-time.After(eventWait):
		t.Fatal("nobody received the first message")
		return nil, nil
	}
}

func TestJetStreamAssumption_PinnedClientAloneReceivesWhileOthersPull(t *testing.T) {
	url := startNATS(t).ClientURL()
	js := pinned(t, url, time.Minute)
	a, b := newPuller(t, url), newPuller(t, url)
	a.consume(t)
	b.consume(t)

	pin, other := firstPinned(t, js, a, b)
	id := pinID(t, js)
	require.NotEmpty(t, id, "the first delivery pinned a client")

	waitFor(t, "the other client still has a pull request waiting", waitingPulls(t, js, 1))
	const n = 50
	for i := range n {
		publish(t, js, fmt.Sprint(i))
	}
	for i := range n {
		assert.Equal(t, fmt.Sprint(i), receive(t, pin), "the pinned client gets every message, in order")
	}
	assert.Empty(t, other.got, "the other client, pulling all along, got nothing")
	assert.Equal(t, id, pinID(t, js), "the pin did not move")
}

func TestJetStreamAssumption_IdleHolderWhosePullOutlivesTheTTLLosesItsPin(t *testing.T) {
	url := startNATS(t).ClientURL()
	js := pinned(t, url, 200*time.Millisecond)
	unpinned := make(chan *nats.Msg, 10)
	sub, err := connect(t, url).ChanSubscribe("$JS.EVENT.ADVISORY.CONSUMER.UNPINNED."+pinStream+"."+pinConsumer, unpinned)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.Unsubscribe() })

	// Consume's pull requests last jetstream.DefaultExpires (30 s); the pin
	// is renewed only by a new pull request, so an idle holder loses it.
	a := newPuller(t, url)
	a.consume(t)
	waitFor(t, "a pull request is waiting", waitingPulls(t, js, 1))
	publish(t, js, "first")
	assert.Equal(t, "first", receive(t, a))
	select {
	case m := <-unpinned:
		var adv struct{ Reason, Group string }
		require.NoError(t, json.Unmarshal(m.Data, &adv))
		assert.Equal(t, "timeout", adv.Reason)
		assert.Equal(t, pinGroup, adv.Group)
	case <-time.After(eventWait):
		t.Fatal("the idle holder kept its pin")
	}

	// Its waiting request still carries the old pin id: the next message
	// answers it with 423, reported to the consume loop, which pulls again
	// without a pin id and, alone in the group, is pinned anew.
	publish(t, js, "next")
	assert.Equal(t, "next", receive(t, a))
	select {
	case err := <-a.errs:
		assert.ErrorIs(t, err, jetstream.ErrPinIDMismatch)
	case <-time.After(eventWait):
		t.Fatal("the consume loop was not told it lost its pin")
	}
}

// The partition transform the design proposes for INBOUND: the subjects
// gateways publish stay as they are, and the stream stores them with a
// partition token after the actor type.
const (
	partitions         = 8
	partitionSource    = "inbound.*.*.*.>"
	partitionTransform = "inbound.{{wildcard(1)}}.{{wildcard(2)}}.{{wildcard(3)}}.{{partition(8)}}.>"
)

// partitionOf is the server's partition(n) without token indexes: FNV-1a
// (32 bits) of the whole source subject, modulo n.
func partitionOf(subject string, n uint32) uint32 {
	h := fnv.New32a()
	h.Write([]byte(subject))
	return h.Sum32() % n
}

func TestJetStreamAssumption_PartitionTransformMapsInboundSubjectsByActorAndID(t *testing.T) {
	url := startNATS(t).ClientURL()
	js, err := jetstream.New(connect(t, url))
	require.NoError(t, err)
	// Today's INBOUND, then the transform added to the live stream.
	_, err = natscluster.EnsureStreams(t.Context(), js)
	require.NoError(t, err)
	s, err := js.Stream(t.Context(), natscluster.InboundStream)
	require.NoError(t, err)
	cfg := s.CachedInfo().Config
	cfg.SubjectTransform = &jetstream.SubjectTransformConfig{Source: partitionSource, Destination: partitionTransform}
	s, err = js.UpdateStream(t.Context(), cfg)
	require.NoError(t, err, "a live stream accepts the transform")

	ns := natscluster.Namespace{WorkspaceID: "ws", ProjectID: "prj"}
	perPartition := make(map[uint32]uint64)
	stored := func(actor, id string) string {
		t.Helper()
		ack, err := js.Publish(t.Context(), natscluster.InboundSubject(ns, actor, id), []byte("{}"))
		require.NoError(t, err)
		m, err := s.GetMsg(t.Context(), ack.Sequence)
		require.NoError(t, err)
		return m.Subject
	}
	for i := range 64 {
		for _, actor := range []string{"chat", "doc"} {
			id := fmt.Sprintf("room-%d", i)
			if i%8 == 0 {
				id += ".with.dots" // an id spanning several tokens
			}
			p := partitionOf(natscluster.InboundSubject(ns, actor, id), partitions)
			want := fmt.Sprintf("inbound.ws.prj.%s.%d.%s", actor, p, id)
			assert.Equal(t, want, stored(actor, id))
			assert.Equal(t, want, stored(actor, id), "the same actor and id always go to the same partition")
			perPartition[p] += 2
		}
	}
	assert.Len(t, perPartition, partitions, "128 instances reach every one of 8 partitions")

	// One consumer per partition, over every actor type of the scope: the
	// filters do not overlap, so a work queue accepts them, and each sees
	// exactly its partition's messages.
	for p := range uint32(partitions) {
		c, err := js.CreateOrUpdateConsumer(t.Context(), natscluster.InboundStream, jetstream.ConsumerConfig{
			Durable: fmt.Sprintf("rt-ws-prj-p%d", p), FilterSubject: fmt.Sprintf("inbound.ws.prj.*.%d.>", p),
			AckPolicy: jetstream.AckExplicitPolicy})
		require.NoError(t, err)
		assert.Equal(t, perPartition[p], c.CachedInfo().NumPending, "partition %d", p)
	}

	// Today's per-actor-type consumer overlaps the partition consumers:
	// a work queue refuses it, so the two modes cannot be mixed by mistake.
	_, err = js.CreateOrUpdateConsumer(t.Context(), natscluster.InboundStream, jetstream.ConsumerConfig{
		Durable: natscluster.ConsumerName(ns, "chat"), FilterSubject: natscluster.InboundFilter(ns, "chat"),
		AckPolicy: jetstream.AckExplicitPolicy})
	assert.Error(t, err)
}
