// Command draw serves the multiplayer draw-and-guess game ("draw") of the
// Zocket guide over WebSockets, and the game's page on the same port:
//
//	go run ./examples/draw -addr 127.0.0.1:3001   # open http://127.0.0.1:3001 in two browser tabs
//
// The page's room is the URL's fragment (#room-1 by default).
package main

import (
	"context"
	"log/slog"
	"net"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/examples/draw/game"
	"github.com/zocket-go/zocket/examples/internal/exampleserver"
	"github.com/zocket-go/zocket/transport/wshttp"
)

func main() { exampleserver.Main("draw", serve) }

func serve(ctx context.Context, ln net.Listener, log *slog.Logger) error {
	app := zocket.NewApp(zocket.WithLogger(log)).Register("draw", game.Actor())
	defer app.Close(context.Background()) // after the server: onDeactivate runs, bounded by the App's grace
	ws, err := wshttp.New(zocket.NewHandler(app), wshttp.Options{Logger: log, OriginPatterns: exampleserver.Origins(ctx)})
	if err != nil {
		return err
	}
	log.Info("draw page: open it in two browser tabs", "url", "http://"+ln.Addr().String())
	return ws.Serve(ctx, ln, exampleserver.Site(ws, pages()))
}
