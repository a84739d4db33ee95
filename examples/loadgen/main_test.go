package main

import (
	"flag"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/examples/loadgen/load"
)

func TestParse_TakesTheTargetAndScenarioFlags(t *testing.T) {
	s, err := parse("bigstate", flag.NewFlagSet("bigstate", flag.ContinueOnError),
		[]string{"-url", "ws://127.0.0.1:9", "-pid", "7", "-sizes", "5, 50", "-touches", "3"})
	require.NoError(t, err)
	assert.Equal(t, &load.BigState{Target: load.Target{URL: "ws://127.0.0.1:9", PID: 7},
		Sizes: []int{5, 50}, Touches: 3, Appends: 200, ID: "b"}, s)
}

func TestParse_RejectsABadSize(t *testing.T) {
	_, err := parse("bigstate", flag.NewFlagSet("bigstate", flag.ContinueOnError), []string{"-sizes", "10,x"})
	assert.ErrorContains(t, err, `bad size "x"`)
}
