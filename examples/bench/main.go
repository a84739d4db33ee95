// Command bench serves the actors that the load generator (examples/loadgen,
// docs/benchmarks.md) expects (counter, chat, big), on 127.0.0.1:$PORT when
// PORT is set (127.0.0.1:3000 otherwise, or -addr). It serves through
// transport/websocket, or through transport/gobwas when TRANSPORT=gobwas
// is set:
//
//	PORT=3000 go run ./examples/bench
//	PORT=3000 TRANSPORT=gobwas go run ./examples/bench
//	go run ./examples/loadgen rtt -url ws://127.0.0.1:3000 -pid <server pid>
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/examples/bench/benchapp"
	"github.com/zocket-go/zocket/examples/internal/exampleserver"
	"github.com/zocket-go/zocket/transport/gobwas"
	"github.com/zocket-go/zocket/transport/websocket"
)

func main() { exampleserver.Main("bench", serve(os.Getenv("TRANSPORT"))) }

// serve returns the serving function for the named transport ("",
// "websocket" or "gobwas").
func serve(transport string) func(ctx context.Context, ln net.Listener, log *slog.Logger) error {
	return func(ctx context.Context, ln net.Listener, log *slog.Logger) error {
		app := benchapp.NewApp(zocket.WithLogger(log))
		defer app.Close(context.Background()) // after the server stops
		switch transport {
		case "", "websocket":
			return websocket.Serve(ctx, ln, app, websocket.Options{Logger: log, OriginPatterns: exampleserver.Origins(ctx)})
		case "gobwas":
			return gobwas.Serve(ctx, ln, app, gobwas.Options{Logger: log, OriginPatterns: exampleserver.Origins(ctx)})
		}
		ln.Close()
		return fmt.Errorf("unknown TRANSPORT %q (want websocket or gobwas)", transport)
	}
}
