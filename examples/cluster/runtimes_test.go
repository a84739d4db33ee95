package main

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/testsupport/poll"
	"github.com/zocket-go/zocket/internal/testsupport/wstest"
)

// healthBody reads a runtime's /health.
func healthBody(t *testing.T, url string) map[string]any {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	var h map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&h))
	return h
}

// -runtimes 3 runs three runtimes in the process; they share the 32
// partitions out and every counter keeps counting wherever it lives.
func TestRuntimes_ThreeRuntimesShareThePartitionsAndServeEveryActor(t *testing.T) {
	a := start(t, testConfig(t, "-runtimes", "3"))
	require.Len(t, a.Healths, 3)
	c := wstest.DialWelcome(t, a.Gateway)
	for _, id := range []string{"a", "b", "c", "d", "e", "f"} {
		assert.Equal(t, 1.0, c.MustCall("counter", id, "increment", nil))
		assert.Equal(t, 3.0, c.MustCall("counter", id, "add", map[string]any{"amount": 2}))
	}
	poll.Until(t, func() bool {
		total, each := 0, 0
		for _, u := range a.Healths {
			h := healthBody(t, u)
			held, _ := h["partitionsHeld"].([]any)
			total += len(held)
			if h["runtimes"] == 3.0 && h["partitions"] == 32.0 {
				each++
			}
		}
		return each == 3 && total <= 32
	}, "three runtimes that see each other, no partition held twice")
}

func TestRuntimes_FlagsAreChecked(t *testing.T) {
	none := func(string) string { return "" }
	_, err := parseConfig([]string{"-runtimes", "0"}, none)
	assert.ErrorContains(t, err, "-runtimes must be at least 1")
	_, err = parseConfig([]string{"-runtimes", "2", "-storage", "memory"}, none)
	assert.ErrorContains(t, err, "-storage=memory cannot be shared")
	cfg, err := parseConfig([]string{"-runtimes", "2"}, none)
	require.NoError(t, err)
	assert.Equal(t, 32, cfg.Partitions)
}

// -per-session-outbound makes the gateway read what a TypeScript runtime
// publishes; a Go runtime answers there too when the gateway does not
// mark its frames.
func TestPerSessionOutbound_GatewayAndGoRuntimeStillTalk(t *testing.T) {
	a := start(t, testConfig(t, "-per-session-outbound"))
	c := wstest.DialWelcome(t, a.Gateway)
	assert.Equal(t, 1.0, c.MustCall("counter", "ts", "increment", nil))
}
