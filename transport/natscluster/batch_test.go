package natscluster

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var batchNS = Namespace{WorkspaceID: "ws-1", ProjectID: "prj-1"}

// batchRig is a batcher whose publishes are recorded.
type batchRig struct {
	b        *batcher
	sent     [][]byte
	messages int // published since the last call of published
}

func newBatchRig(maxPayload int64) *batchRig {
	rig := &batchRig{}
	rig.b = &batcher{ns: batchNS, subject: GatewayOutboundSubject(batchNS, "g1"),
		maxPayload: func() int64 { return maxPayload },
		publish: func(m *nats.Msg) error {
			rig.sent = append(rig.sent, m.Data)
			return nil
		}}
	return rig
}

// published flushes the batcher and returns the envelopes it published,
// those of batches (JSON arrays) one by one, in order.
func (rig *batchRig) published() [][]byte {
	rig.b.flush()
	var out [][]byte
	for _, data := range rig.sent {
		out = append(out, splitBatch(data)...)
	}
	rig.messages = len(rig.sent)
	rig.sent = nil
	return out
}

// splitBatch returns a gateway message's envelopes.
func splitBatch(data []byte) [][]byte {
	if data[0] != '[' {
		return [][]byte{data}
	}
	var envs []json.RawMessage
	if err := json.Unmarshal(data, &envs); err != nil {
		panic(err)
	}
	out := make([][]byte, len(envs))
	for i, e := range envs {
		out[i] = e
	}
	return out
}

func decodeGateway(t *testing.T, data []byte) (ids []string, message string) {
	t.Helper()
	var env GatewayOutboundEnvelope
	require.NoError(t, json.Unmarshal(data, &env))
	assert.Equal(t, batchNS, env.Namespace)
	return env.SessionIDs, string(env.Message)
}

func TestBatcher_PublishesAFrameQueuedForManySessionsOnce(t *testing.T) {
	rig := newBatchRig(1 << 20)
	patch, result := []byte(`{"type":"state:patch"}`), []byte(`{"type":"rpc:result","id":"r1"}`)
	for _, s := range []string{"s1", "s2", "s3"} {
		rig.b.add(s, patch)
	}
	rig.b.add("s4", result)

	envs := rig.published()
	require.Len(t, envs, 2)
	assert.Equal(t, `{"scope":{"workspaceId":"ws-1","projectId":"prj-1"},"sessionIds":["s1","s2","s3"],"message":{"type":"state:patch"}}`, string(envs[0]))
	assert.Equal(t, `{"scope":{"workspaceId":"ws-1","projectId":"prj-1"},"sessionIds":["s4"],"message":{"type":"rpc:result","id":"r1"}}`, string(envs[1]))
	assert.Equal(t, 1, rig.messages, "both envelopes in one message")
	assert.Empty(t, rig.published(), "a flush empties the batcher")
}

// One envelope alone is published as itself, not as a batch of one.
func TestBatcher_PublishesALoneEnvelopeAsAnObject(t *testing.T) {
	rig := newBatchRig(1 << 20)
	rig.b.add("s1", []byte(`{"type":"rpc:result","id":"r1"}`))
	rig.b.flush()
	require.Len(t, rig.sent, 1)
	assert.Equal(t, `{"scope":{"workspaceId":"ws-1","projectId":"prj-1"},"sessionIds":["s1"],"message":{"type":"rpc:result","id":"r1"}}`, string(rig.sent[0]))
}

// A flush that finds another running leaves its frames to it: the
// running flush publishes them before it returns, after what it was
// publishing, and the deliveries of a result are acked only once the
// result is published.
func TestBatcher_AFlushRunningTakesWhatIsQueuedMeanwhileAndAcksAfterPublishing(t *testing.T) {
	rig := newBatchRig(1 << 20)
	var order []string
	inner := func() { // runs while the first flush publishes
		rig.b.add("s2", []byte(`{"type":"rpc:result","id":"r2"}`))
		rig.b.ackAfter([]jetstream.Msg{ackRecorder{order: &order, name: "ack r2"}})
		order = append(order, "second flush returned")
	}
	first := true
	rig.b.publish = func(m *nats.Msg) error {
		order = append(order, "publish "+string(m.Data[len(m.Data)-5:len(m.Data)-3]))
		if first {
			first = false
			inner()
		}
		return nil
	}
	rig.b.add("s1", []byte(`{"type":"rpc:result","id":"r1"}`))
	rig.b.ackAfter([]jetstream.Msg{ackRecorder{order: &order, name: "ack r1"}})
	assert.Equal(t, []string{"publish r1", "second flush returned", "ack r1", "publish r2", "ack r2"}, order)
}

// ackRecorder is a delivery whose Ack is recorded.
type ackRecorder struct {
	jetstream.Msg
	order *[]string
	name  string
}

func (a ackRecorder) Ack() error { *a.order = append(*a.order, a.name); return nil }

// Equal bytes in different slices are different frames: only the slice
// the App shares between subscribers is merged.
func TestBatcher_MergesOnlyTheSameSlice(t *testing.T) {
	rig := newBatchRig(1 << 20)
	rig.b.add("s1", []byte(`{"a":1}`))
	rig.b.add("s2", []byte(`{"a":1}`))
	assert.Len(t, rig.published(), 2)
	assert.Equal(t, 1, rig.messages, "two envelopes, one message")
}

// The plain and the versioned copy of a patch, sent to subscribers in
// their order, make two envelopes, not one per subscriber.
func TestBatcher_MergesInterleavedFramesOfDistinctSessions(t *testing.T) {
	rig := newBatchRig(1 << 20)
	plain, versioned := []byte(`{"p":1}`), []byte(`{"p":1,"v":7}`)
	for i := range 6 {
		f := plain
		if i%2 == 1 {
			f = versioned
		}
		rig.b.add(fmt.Sprint("s", i), f)
	}
	envs := rig.published()
	require.Len(t, envs, 2)
	ids, msg := decodeGateway(t, envs[0])
	assert.Equal(t, []string{"s0", "s2", "s4"}, ids)
	assert.JSONEq(t, `{"p":1}`, msg)
	ids, msg = decodeGateway(t, envs[1])
	assert.Equal(t, []string{"s1", "s3", "s5"}, ids)
	assert.JSONEq(t, `{"p":1,"v":7}`, msg)
}

// A session's frames leave in the order they were queued, however the
// frames of other sessions are merged around them.
func TestBatcher_KeepsEachSessionsOrder(t *testing.T) {
	rig := newBatchRig(1 << 20)
	a, b, c := []byte(`{"f":"a"}`), []byte(`{"f":"b"}`), []byte(`{"f":"c"}`)
	queued := []struct {
		session string
		frame   []byte
	}{{"s1", a}, {"s1", b}, {"s2", a}, {"s2", b}, {"s3", c}, {"s1", c}, {"s3", a}}
	want := map[string][]string{}
	for _, q := range queued {
		rig.b.add(q.session, q.frame)
		want[q.session] = append(want[q.session], string(q.frame))
	}
	got := map[string][]string{}
	envs := rig.published()
	for _, env := range envs {
		ids, msg := decodeGateway(t, env)
		for _, id := range ids {
			got[id] = append(got[id], msg)
		}
	}
	assert.Equal(t, want, got)
	assert.Less(t, len(envs), len(queued), "some frames were merged")
}

// An envelope whose ids would make it larger than the server's maximum
// payload is split, each part within the limit, the ids in order.
func TestBatcher_SplitsTheIdsOfAnEnvelopeOverTheMaxPayload(t *testing.T) {
	const max = 4096
	rig := newBatchRig(max)
	frame := []byte(`{"type":"state:patch","ops":"` + strings.Repeat("x", 1000) + `"}`)
	var want []string
	for i := range 200 {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		want = append(want, id)
		rig.b.add(id, frame)
	}

	rig.b.flush()
	require.Greater(t, len(rig.sent), 1)
	var got []string
	for _, data := range rig.sent {
		assert.LessOrEqual(t, len(data), max)
	}
	for _, env := range rig.published() {
		ids, msg := decodeGateway(t, env)
		assert.Equal(t, string(frame), msg)
		got = append(got, ids...)
	}
	assert.Equal(t, want, got)
}

// Batching allocates per envelope, not per subscriber: a fan-out to 1,000
// sessions costs no more allocations than one to 10.
func TestBatcher_AllocationsDoNotGrowWithSubscribers(t *testing.T) {
	rig := newBatchRig(1 << 20)
	frame := []byte(`{"type":"state:patch","actor":"room","actorId":"r","patch":[]}`)
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
	}
	rig.b.publish = func(*nats.Msg) error { return nil }
	fanOut := func(n int) float64 {
		return testing.AllocsPerRun(20, func() {
			for _, id := range ids[:n] {
				rig.b.add(id, frame)
			}
			rig.b.flush()
		})
	}
	few, many := fanOut(10), fanOut(1000)
	assert.LessOrEqual(t, many, few+1, "allocations for 1,000 subscribers (%v) against 10 (%v)", many, few)
}

// BenchmarkBatcher_FanOut1000 queues a patch for 1,000 sessions of a
// gateway and flushes it (publishing is left out): its allocations are
// those of one envelope, whatever the number of subscribers.
func BenchmarkBatcher_FanOut1000(b *testing.B) {
	rig := newBatchRig(1 << 20)
	rig.b.publish = func(*nats.Msg) error { return nil }
	frame := []byte(`{"type":"state:patch","actor":"room","actorId":"r","patch":[]}`)
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, id := range ids {
			rig.b.add(id, frame)
		}
		rig.b.flush()
	}
}
