package natscluster

import (
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A publish that panics (an Observer's hook, say) must not leave the
// batcher believing a flush still runs, with every later frame of the
// gateway waiting for it forever, nor with the half-built round of the
// panic mixed into the next.
func TestBatcher_FlushesAgainAfterAPublishPanicked(t *testing.T) {
	patch := []byte(`{"type":"state:patch","n":1}`)
	result := []byte(`{"type":"rpc:result","id":"r1"}`)
	rig := newBatchRig(int64(len(appendGatewayOutbound(nil, batchNS, []string{"s1", "s2"}, result)) + 10))
	publish := rig.b.publish
	rig.b.publish = func(*nats.Msg) error { panic("observer failed") }
	rig.b.add("s1", patch)
	rig.b.add("s2", patch)
	rig.b.add("s3", result) // does not fit beside the patch: published mid-round
	require.PanicsWithValue(t, "observer failed", rig.b.flush)

	rig.b.publish = publish
	rig.b.add("s4", result)
	envs := rig.published()
	require.Len(t, envs, 1)
	ids, message := decodeGateway(t, envs[0])
	assert.Equal(t, []string{"s4"}, ids)
	assert.JSONEq(t, string(result), message)
}
