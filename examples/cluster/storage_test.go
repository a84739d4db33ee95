package main

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/zocket-go/zocket/internal/testsupport/wstest"
)

// incrementAcrossRuntimeRestart increments counter "kept" twice through a
// gateway, replaces the runtime (run with the extra args) by a new one on
// the same NATS, and returns what the third increment gives.
func incrementAcrossRuntimeRestart(t *testing.T, args ...string) float64 {
	t.Helper()
	gw := start(t, testConfig(t, "-role", "gateway")) // and the embedded NATS
	runtime := testConfig(t, append([]string{"-role", "runtime", "-nats", gw.NATS}, args...)...)
	_, stop := startStoppable(t, runtime)
	c := wstest.DialWelcome(t, gw.Gateway)
	assert.Equal(t, 1.0, c.MustCall("counter", "kept", "increment", nil))
	assert.Equal(t, 2.0, c.MustCall("counter", "kept", "increment", nil))
	stop()

	start(t, runtime)
	return c.MustCall("counter", "kept", "increment", nil).(float64)
}

func TestStorage_ACounterKeepsItsStateWhenTheRuntimeRestarts(t *testing.T) {
	assert.Equal(t, 3.0, incrementAcrossRuntimeRestart(t), "the default, -storage=jetstream")
}

func TestStorage_MemoryStartsEveryCounterAfreshInANewRuntime(t *testing.T) {
	assert.Equal(t, 1.0, incrementAcrossRuntimeRestart(t, "-storage", "memory"))
}

func TestStorage_TheFlagAcceptsJetStreamOrMemory(t *testing.T) {
	assert.Equal(t, storageJetStream, testConfig(t).Storage)
	_, err := parseConfig([]string{"-storage", "disk"}, func(string) string { return "" })
	assert.ErrorContains(t, err, "-storage must be jetstream or memory")
}

func TestStorage_WithNATSDirACounterKeepsItsStateAcrossRunsOfTheWholeProcess(t *testing.T) {
	cfg := testConfig(t, "-nats-dir", t.TempDir())
	a, stop := startStoppable(t, cfg)
	assert.Equal(t, 1.0, wstest.DialWelcome(t, a.Gateway).MustCall("counter", "kept", "increment", nil))
	stop()

	a = start(t, cfg)
	assert.Equal(t, 2.0, wstest.DialWelcome(t, a.Gateway).MustCall("counter", "kept", "increment", nil))
}

// The big actor's seeded state is larger than a NATS message: it is
// ephemeral, so seeding it works with the default storage.
func TestStorage_TheBigActorIsEphemeral(t *testing.T) {
	a := start(t, testConfig(t))
	assert.Equal(t, 60000.0, wstest.DialWelcome(t, a.Gateway).MustCall("big", "b", "seed", map[string]any{"n": 60000}))
}
