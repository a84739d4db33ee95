// Command conformance serves the fixture actors of the conformance suite over
// WebSockets, so that a client in any language can be tested against a Go
// server:
//
//	go run ./examples/conformance -addr 127.0.0.1:3000
package main

import (
	"context"
	"log/slog"
	"net"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/examples/internal/exampleserver"
	"github.com/zocket-go/zocket/transport/wshttp"
	"github.com/zocket-go/zocket/zockettest/conformance/fixtures"
)

func main() { exampleserver.Main("conformance", serve) }

func serve(ctx context.Context, ln net.Listener, log *slog.Logger) error {
	app, _ := fixtures.NewApp(zocket.WithLogger(log))
	defer app.Close(context.Background()) // after the server stops: onDeactivate runs
	return wshttp.Serve(ctx, ln, app, wshttp.Options{Logger: log, OriginPatterns: exampleserver.Origins(ctx)})
}
