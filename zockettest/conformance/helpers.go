package conformance

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/testsupport/patchtest"
	"github.com/zocket-go/zocket/internal/testsupport/wstest"
	"github.com/zocket-go/zocket/protocol"
)

// store mirrors a client-side state store: snapshot, then patches applied
// with the TS client's rules.
type store struct {
	t     *testing.T
	state any
	calls int
}

func (s *store) apply(f wstest.Frame) {
	s.t.Helper()
	switch f.Type() {
	case "state:snapshot":
		s.state = f["state"]
		s.calls++
	case "state:patch":
		if s.state == nil {
			return
		}
		b, _ := json.Marshal(f["patches"])
		var ops []protocol.Op
		require.NoError(s.t, json.Unmarshal(b, &ops))
		next, err := patchtest.Apply(s.state, ops, patchtest.TS)
		require.NoError(s.t, err)
		s.state = next
		s.calls++
	}
}

// waitState feeds frames into s until cond holds.
func (s *store) waitState(c *wstest.Client, cond func(any) bool) {
	s.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !(s.state != nil && cond(s.state)) {
		if time.Now().After(deadline) {
			s.t.Fatalf("state never matched; last %v", s.state)
		}
		s.apply(c.Next())
	}
}

func field(v any, path ...string) any {
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	return v
}

func ops(t *testing.T, f wstest.Frame) []protocol.Op {
	t.Helper()
	b, _ := json.Marshal(f["patches"])
	var out []protocol.Op
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// roundTrip waits until the server has processed everything c sent before.
func roundTrip(c *wstest.Client) { c.MustCall("echo", "sync", "whoAmI", nil) }
