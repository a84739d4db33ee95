// Command chat serves the getting-started chat room ("chat") over
// WebSockets, with in-memory state and nothing else to install, and a chat
// page on the same port:
//
//	go run ./examples/chat            # open http://127.0.0.1:3000 in two tabs
//	go run ./examples/chat -addr 127.0.0.1:4000
//	go run ./examples/chat -inspect -inspect-token s3cret   # and http://127.0.0.1:3000/inspect/?token=s3cret
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
	"github.com/zocket-go/zocket/examples/chat/chatroom"
	"github.com/zocket-go/zocket/examples/internal/exampleserver"
	"github.com/zocket-go/zocket/transport/wshttp"
)

func main() { exampleserver.Main("chat", inspectFlags().around(serve)) }

func serve(ctx context.Context, ln net.Listener, log *slog.Logger) error {
	inspect := inspecting(ctx)
	app := zocket.NewApp(inspect.appOptions(zocket.WithLogger(log))...).Register("chat", chatroom.Actor())
	defer app.Close(context.Background()) // after the server: onDeactivate runs, bounded by the App's grace
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
