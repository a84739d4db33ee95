// Command bench serves the actors that the load generator (examples/loadgen,
// docs/benchmarks.md) expects (counter, chat, big), on 127.0.0.1:$PORT when
// PORT is set (127.0.0.1:3000 otherwise, or -addr). It serves through
// transport/wshttp, or through transport/wsepoll when TRANSPORT=wsepoll
// is set ("websocket" and "gobwas", the libraries' names, work too):
//
//	PORT=3000 go run ./examples/bench
//	PORT=3000 TRANSPORT=wsepoll go run ./examples/bench
//	PORT=3000 DATA=/tmp/zocket-bench go run ./examples/bench
//
// With DATA set the actors are durable (Gated), stored with
// storage/diskstore in that folder.
//
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
	"github.com/zocket-go/zocket/storage/diskstore"
	"github.com/zocket-go/zocket/transport/wsepoll"
	"github.com/zocket-go/zocket/transport/wshttp"
)

func main() { exampleserver.Main("bench", serve(os.Getenv("TRANSPORT"))) }

// serve returns the serving function for the named transport ("",
// "wshttp" or "wsepoll").
func serve(transport string) func(ctx context.Context, ln net.Listener, log *slog.Logger) error {
	return func(ctx context.Context, ln net.Listener, log *slog.Logger) error {
		opts := []zocket.Option{zocket.WithLogger(log)}
		if dir := os.Getenv("DATA"); dir != "" {
			store, err := diskstore.Open(dir, diskstore.Options{Logger: log})
			if err != nil {
				ln.Close()
				return err
			}
			defer store.Close() // after the App: deferred first, runs last
			opts = append(opts, zocket.WithStorage(store))
		}
		app := benchapp.NewApp(opts...)
		defer app.Close(context.Background()) // after the server stops
		switch transport {
		case "", "wshttp", "websocket":
			return wshttp.Serve(ctx, ln, app, wshttp.Options{Logger: log, OriginPatterns: exampleserver.Origins(ctx)})
		case "wsepoll", "gobwas":
			return wsepoll.Serve(ctx, ln, app, wsepoll.Options{Logger: log, OriginPatterns: exampleserver.Origins(ctx)})
		}
		ln.Close()
		return fmt.Errorf("unknown TRANSPORT %q (want wshttp or wsepoll)", transport)
	}
}
