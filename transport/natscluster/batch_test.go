package natscluster

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var batchNS = Namespace{WorkspaceID: "ws-1", ProjectID: "prj-1"}

// batchRig is a batcher whose publishes are recorded.
type batchRig struct {
	b    *batcher
	sent [][]byte
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

// published flushes the batcher and returns the envelopes it published.
func (rig *batchRig) published() [][]byte {
	rig.b.flush()
	out := rig.sent
	rig.sent = nil
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
	assert.Empty(t, rig.published(), "a flush empties the batcher")
}

// Equal bytes in different slices are different frames: only the slice
// the App shares between subscribers is merged.
func TestBatcher_MergesOnlyTheSameSlice(t *testing.T) {
	rig := newBatchRig(1 << 20)
	rig.b.add("s1", []byte(`{"a":1}`))
	rig.b.add("s2", []byte(`{"a":1}`))
	assert.Len(t, rig.published(), 2)
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

	envs := rig.published()
	require.Greater(t, len(envs), 1)
	var got []string
	for _, env := range envs {
		assert.LessOrEqual(t, len(env), max)
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
