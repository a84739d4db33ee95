// Command bench serves the actors that the load generator in
// ../shared/loadgen expects (counter, chat, big), on 127.0.0.1:$PORT when
// PORT is set (127.0.0.1:3000 otherwise, or -addr):
//
//	PORT=3000 go run ./examples/bench
//	cd ../shared/loadgen && go run . rtt -url ws://127.0.0.1:3000 -pid <server pid>
package main

import (
	"context"
	"log/slog"
	"net"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/examples/internal/exampleserver"
	"github.com/zocket-go/zocket/transport/websocket"
)

func main() { exampleserver.Main("bench", serve) }

func serve(ctx context.Context, ln net.Listener, log *slog.Logger) error {
	app := newApp(zocket.WithLogger(log))
	return websocket.Serve(ctx, ln, app, websocket.Options{Logger: log})
}
