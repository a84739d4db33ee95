package main

import (
	"testing"

	"github.com/zocket-go/zocket/examples/conformance/suite"
	"github.com/zocket-go/zocket/internal/testsupport/wstest"
)

// TestConformance runs every server/wire check of the conformance suite against
// this example's server (transport/wshttp) over real WebSockets.
func TestConformance(t *testing.T) {
	suite.Run(t, func(tb testing.TB) string { return wstest.Serve(tb, serve) })
}
