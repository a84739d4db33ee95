package natscluster_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// messagesIn returns the texts a state:patch adds to the room's messages.
func messagesIn(t *testing.T, patch map[string]any) []string {
	t.Helper()
	var texts []string
	for _, o := range patch["patches"].([]any) {
		op := o.(map[string]any)
		if !strings.HasPrefix(op["path"].(string), "/messages") {
			continue // the caller's onConnect
		}
		switch v := op["value"].(type) {
		case string:
			texts = append(texts, v)
		case []any: // the first message replaces null
			for _, e := range v {
				texts = append(texts, e.(string))
			}
		default:
			t.Fatalf("unexpected patch op %v", op)
		}
	}
	return texts
}

// A burst of commits queues many frames for one session at once; the
// gateway writes them in batches, and each arrives whole, in order.
func TestGateway_WritesABurstOfFramesWholeAndInOrder(t *testing.T) {
	const n = 1000
	c := startCluster(t, member())
	sub := subscribers(t, c.wsURL, 1, "burst")[0]
	caller := dialSocket(t, c.wsURL)
	var want []string
	for i := range n {
		want = append(want, fmt.Sprintf("m%d", i))
		caller.send(fmt.Sprintf(`{"type":"rpc","id":"b%d","actor":"room","actorId":"burst","method":"say","input":{"text":"m%d"}}`, i, i))
	}

	var got []string
	for len(got) < n {
		f, _, err := sub.read()
		require.NoError(t, err)
		if f["type"] == "state:patch" { // not the runtime's welcome
			got = append(got, messagesIn(t, f)...)
		}
	}
	assert.Equal(t, want, got, "the subscriber's patches")
	for i := 0; i < n; {
		f, _, err := caller.read()
		require.NoError(t, err)
		if f["type"] != "rpc:result" {
			continue
		}
		require.Equal(t, fmt.Sprintf("b%d", i), f["id"])
		require.EqualValues(t, i+1, f["result"])
		i++
	}
}
