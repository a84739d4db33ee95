package main

import (
	"testing"

	"github.com/zocket-go/zocket/internal/testsupport/wstest"
	"github.com/zocket-go/zocket/zockettest/conformance"
)

// TestConformance runs every server/wire check of the conformance suite against
// this example's server (transport/wshttp) over real WebSockets.
func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Target{Start: func(tb testing.TB) string { return wstest.Serve(tb, serve) }})
}
