// Command chat serves the getting-started chat room ("chat") over
// WebSockets, with a chat page on the same port and nothing else to
// install:
//
//	go run ./examples/chat            # open http://127.0.0.1:3000 in two tabs
//	go run ./examples/chat -addr 127.0.0.1:4000
//	go run ./examples/chat -data ./rooms      # keep the rooms in ./rooms
//	go run ./examples/chat -memory            # keep nothing: rooms start empty
//	go run ./examples/chat -inspect -inspect-token s3cret   # and http://127.0.0.1:3000/inspect/?token=s3cret
//
// The rooms survive restarts, and crashes: they are durable actors
// (zocket.WithStorage) kept by storage/diskstore in the -data directory,
// by default zocket-chat in the user's cache directory (on Linux
// ~/.cache/zocket-chat, on macOS ~/Library/Caches/zocket-chat), which
// needs no setup and stays out of the clone; delete it to start afresh.
// A call's result reaches the client only once its message is on disk
// (zocket.Gated). With -relaxed the room writes behind instead
// (zocket.Relaxed): results leave at once, and a crash may lose the
// messages of the last zocket.DefaultWriteBehind. One chat server at a
// time may use a directory: a second one exits with an error saying so.
//
// The page uses zocket.js, the browser client served at /zocket/zocket.js.
// A browser app written against @zocket/client works unchanged:
//
//	const room = createClient({ url: "ws://127.0.0.1:3000" }).chat("general");
//	await room.sendMessage({ from: "Alice", text: "Hello!" });
package main

import (
	"context"
	"log/slog"
	"net"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/examples/internal/exampleserver"
	"github.com/zocket-go/zocket/transport/wshttp"
)

func main() { exampleserver.Main("chat", inspectFlags().around(storageFlags().around(serve))) }

func serve(ctx context.Context, ln net.Listener, log *slog.Logger) error {
	inspect, rooms := inspecting(ctx), keeping(ctx)
	app := zocket.NewApp(inspect.appOptions(rooms.appOptions(zocket.WithLogger(log))...)...).Register("chat", rooms.actor())
	defer app.Close(context.Background()) // after the server: onDeactivate runs and the last changes are written, bounded by the App's grace
	ws, err := wshttp.New(zocket.NewHandler(app), wshttp.Options{Logger: log, OriginPatterns: exampleserver.Origins(ctx)})
	if err != nil {
		return err
	}
	site, err := inspect.mount(app, exampleserver.Site(ws, pages()), log)
	if err != nil {
		return err
	}
	defer inspect.shutdown()
	log.Info("chat page: open it in two browser tabs", "url", "http://"+ln.Addr().String())
	return ws.Serve(ctx, ln, site)
}
