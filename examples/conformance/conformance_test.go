package main

import (
	"testing"

	"github.com/zocket-go/zocket/examples/conformance/suite"
	"github.com/zocket-go/zocket/examples/internal/exampleserver"
)

// TestConformance runs every server/wire case of CONFORMANCE.md against
// this example's server (transport/websocket) over real WebSockets.
func TestConformance(t *testing.T) {
	suite.Run(t, func(tb testing.TB) string { return exampleserver.Start(tb, serve) })
}
