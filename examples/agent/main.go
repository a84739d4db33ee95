// Command agent serves an AI-agent-style actor ("agent", with "tools")
// that streams a fake model's tokens into its state and to its caller,
// delegates a step to another actor, and expires idle sessions:
//
//	go run ./examples/agent -addr 127.0.0.1:3000
package main

import (
	"context"
	"log/slog"
	"net"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/examples/agent/agent"
	"github.com/zocket-go/zocket/examples/internal/exampleserver"
	"github.com/zocket-go/zocket/transport/wshttp"
)

func main() { exampleserver.Main("agent", serve) }

func serve(ctx context.Context, ln net.Listener, log *slog.Logger) error {
	app := zocket.NewApp(zocket.WithLogger(log)).
		Register("agent", agent.Actor()).
		Register("tools", agent.Tools())
	defer app.Close(context.Background()) // after the server stops: onDeactivate runs
	return wshttp.Serve(ctx, ln, app, wshttp.Options{Logger: log, OriginPatterns: exampleserver.Origins(ctx)})
}
