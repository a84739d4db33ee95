package natscluster_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/testsupport/poll"
	"github.com/zocket-go/zocket/internal/testsupport/wstest"
	"github.com/zocket-go/zocket/transport/natscluster"
)

// movePartitions is the partition count of the simulated deployment.
const movePartitions = 8

// published is a message the gateway put in INBOUND.
type published struct {
	subject string
	data    string
	header  nats.Header
}

// moveRig is a NATS server, a gateway with its membership watch and no
// runtime: what the gateway publishes stays in INBOUND for the test, and
// the test writes the runtimes' membership entries itself.
type moveRig struct {
	t     *testing.T
	js    jetstream.JetStream
	kv    jetstream.KeyValue
	g     *natscluster.Gateway
	wsURL string
	sent  chan published
	// ids are instances of "room", one per partition, by partition.
	ids    map[int]string
	fences int // fence runtimes added
}

// newMoveRig starts the gateway before the membership bucket exists, then
// creates the bucket with cfg and waits until the gateway watches it.
func newMoveRig(t *testing.T, cfg jetstream.KeyValueConfig) *moveRig {
	t.Helper()
	srv := startNATS(t)
	g, err := natscluster.NewGateway(t.Context(), connect(t, srv.ClientURL()), natscluster.GatewayOptions{
		Authorizer: member(), Logger: testLogger(), MembershipRetry: 10 * time.Millisecond})
	require.NoError(t, err)
	r := &moveRig{t: t, g: g, wsURL: serveGateway(t, g), sent: make(chan published, 64), ids: map[int]string{}}
	r.js, err = jetstream.New(connect(t, srv.ClientURL()))
	require.NoError(t, err)

	cons, err := r.js.CreateConsumer(t.Context(), natscluster.InboundStream, jetstream.ConsumerConfig{
		FilterSubject: "inbound.ws-1.prj-1.>", AckPolicy: jetstream.AckExplicitPolicy})
	require.NoError(t, err)
	cc, err := cons.Consume(func(m jetstream.Msg) {
		r.sent <- published{subject: m.Subject(), data: string(m.Data()), header: m.Headers()}
		m.Ack()
	})
	require.NoError(t, err)
	t.Cleanup(cc.Stop)

	cfg.Bucket = natscluster.RuntimesBucket
	r.kv, err = r.js.CreateKeyValue(t.Context(), cfg)
	require.NoError(t, err)
	poll.Until(t, func() bool {
		info, err := r.js.Stream(t.Context(), "KV_"+natscluster.RuntimesBucket)
		return err == nil && info.CachedInfo().State.Consumers > 0
	}, "watched the membership bucket")

	for i := 0; len(r.ids) < movePartitions; i++ {
		id := fmt.Sprintf("r%d", i)
		if p := natscluster.Partition(scope, "room", id, movePartitions); r.ids[p] == "" {
			r.ids[p] = id
		}
	}
	return r
}

// put writes a runtime's membership entry.
func (r *moveRig) put(runtimeID string, held ...int) {
	r.t.Helper()
	b, err := json.Marshal(natscluster.MemberEntry{RuntimeID: runtimeID, Partitions: movePartitions, Held: held})
	require.NoError(r.t, err)
	_, err = r.kv.Put(r.t.Context(), natscluster.MemberKey(scope, runtimeID), b)
	require.NoError(r.t, err)
}

// leave deletes a runtime's membership entry, as a graceful stop does.
func (r *moveRig) leave(runtimeID string) {
	r.t.Helper()
	require.NoError(r.t, r.kv.Delete(r.t.Context(), natscluster.MemberKey(scope, runtimeID)))
}

// subscribe sends frames on a session and returns them as the gateway
// published them, once all are in INBOUND (so the gateway tracks them).
func (r *moveRig) subscribe(w *wstest.Client, frames ...string) []published {
	r.t.Helper()
	for _, f := range frames {
		w.SendRaw(f)
	}
	return r.next(len(frames))
}

// next returns the next n messages the gateway published.
func (r *moveRig) next(n int) []published {
	r.t.Helper()
	var got []published
	for len(got) < n {
		select {
		case m := <-r.sent:
			got = append(got, m)
		case <-time.After(poll.Deadline):
			r.t.Fatalf("got %d of %d published messages: %v", len(got), n, got)
		}
	}
	return got
}

// fencePartition is held by the fence runtimes only.
const fencePartition = movePartitions - 1

// fence makes one known re-send happen, the fence session's subscription
// in fencePartition: one more runtime claims the partition (the first
// call adds two, the first of which moves nothing). What the gateway
// published before that re-send is what earlier membership changes
// caused, since the gateway handles the changes in order; fence returns
// it. Each fence runtime writes its key once: a watch may see only the
// last of several quick writes of one key.
func (r *moveRig) fence(fenceFrame published) []published {
	r.t.Helper()
	if r.fences == 0 {
		r.put("fence0", fencePartition)
	}
	r.fences++
	r.put(fmt.Sprintf("fence%d", r.fences), fencePartition)
	var before []published
	for {
		m := r.next(1)[0]
		if m.data == fenceFrame.data {
			return before
		}
		before = append(before, m)
	}
}

func sub(typ, id string) string {
	return `{"type":"` + typ + `","actor":"room","actorId":"` + id + `"}`
}

// A partition's first holder re-sends nothing; when a holder releases it,
// the gateway publishes again, exactly as the clients sent them, the
// state and event subscriptions of every session on that partition's
// instances, and of no other partition.
func TestFollow_ReleasedPartitionResendsItsSubscriptionsOnly(t *testing.T) {
	r := newMoveRig(t, jetstream.KeyValueConfig{TTL: time.Minute})
	x, y := r.ids[0], r.ids[1]
	w1, w2, fenceSession := wstest.DialWelcome(t, r.wsURL), wstest.DialWelcome(t, r.wsURL), wstest.DialWelcome(t, r.wsURL)
	fenceFrame := r.subscribe(fenceSession, sub("state:sub", r.ids[fencePartition]))[0]
	onX := r.subscribe(w1,
		`{"type":"state:sub","actor":"room","actorId":"`+x+`","version":3,"epoch":"e1","extra":[1]}`,
		sub("event:sub", x))
	onX = append(onX, r.subscribe(w2, sub("event:sub", x))...)
	onY := append(r.subscribe(w1, sub("state:sub", y)), r.subscribe(w2, sub("event:sub", y))...)

	r.put("A", 0, 1)
	assert.Empty(t, r.fence(fenceFrame), "a first holder re-sends nothing")

	r.put("A", 1) // releases partition 0
	assert.ElementsMatch(t, onX, r.fence(fenceFrame), "the subscriptions on x, verbatim, and nothing on y")

	r.put("B", 1) // {A} → {A, B}
	r.put("A")    // {A, B} → {B}
	assert.ElementsMatch(t, append(onY, onY...), r.fence(fenceFrame), "partition 1 changed hands twice")
}

// Subscriptions the client ended, and those of a session that closed,
// are not re-sent.
func TestFollow_DoesNotResendEndedSubscriptionsOrClosedSessions(t *testing.T) {
	r := newMoveRig(t, jetstream.KeyValueConfig{TTL: time.Minute})
	x := r.ids[0]
	fenceFrame := r.subscribe(wstest.DialWelcome(t, r.wsURL), sub("state:sub", r.ids[fencePartition]))[0]
	w1, w2 := wstest.DialWelcome(t, r.wsURL), wstest.DialWelcome(t, r.wsURL)
	kept := r.subscribe(w1, sub("state:sub", x), sub("event:sub", x), sub("event:unsub", x))[0]
	r.subscribe(w2, sub("state:sub", x), sub("event:sub", x))
	w2.Close()
	poll.Until(t, func() bool { return r.g.Len() == 2 }, "closed the second session")

	r.put("A", 0)
	assert.Empty(t, r.fence(fenceFrame))
	r.leave("A")
	assert.Equal(t, []published{kept}, r.fence(fenceFrame))
}

// A runtime that dies stops refreshing its entry, and the bucket's TTL
// removes it: the gateway counts that as a release, whether or not the
// bucket leaves a marker for the removed key.
func TestFollow_AnEntryRemovedByTheTTLReleasesItsPartitions(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  jetstream.KeyValueConfig
	}{
		{"without markers", jetstream.KeyValueConfig{TTL: 500 * time.Millisecond}},
		{"with markers", jetstream.KeyValueConfig{TTL: 500 * time.Millisecond, LimitMarkerTTL: time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newMoveRig(t, tc.cfg)
			x, y := r.ids[0], r.ids[1]
			w := wstest.DialWelcome(t, r.wsURL)
			fenceFrame := r.subscribe(w, sub("state:sub", r.ids[fencePartition]))[0]
			onX := r.subscribe(w, sub("state:sub", x))
			r.subscribe(w, sub("state:sub", y))

			r.put("dies", 0)
			assert.Equal(t, onX, r.next(1), "re-sent once the entry aged out")
			assert.Empty(t, r.fence(fenceFrame), "nothing else")
		})
	}
}
