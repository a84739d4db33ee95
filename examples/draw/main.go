// Command draw serves the multiplayer draw-and-guess game ("draw") of the
// Zocket guide over WebSockets:
//
//	go run ./examples/draw -addr 127.0.0.1:3001
package main

import (
	"context"
	"log/slog"
	"net"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/examples/draw/game"
	"github.com/zocket-go/zocket/examples/internal/exampleserver"
	"github.com/zocket-go/zocket/transport/websocket"
)

func main() { exampleserver.Main("draw", serve) }

func serve(ctx context.Context, ln net.Listener, log *slog.Logger) error {
	app := zocket.NewApp(zocket.WithLogger(log)).Register("draw", game.Actor())
	return websocket.Serve(ctx, ln, app, websocket.Options{Logger: log, OriginPatterns: exampleserver.Origins(ctx)})
}
