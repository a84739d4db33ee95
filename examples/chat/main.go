// Command chat serves the getting-started chat room ("chat") over
// WebSockets, with in-memory state and nothing else to install:
//
//	go run ./examples/chat            # ws://127.0.0.1:3000
//	go run ./examples/chat -addr 127.0.0.1:4000
//
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
	"github.com/zocket-go/zocket/transport/websocket"
)

func main() { exampleserver.Main("chat", serve) }

func serve(ctx context.Context, ln net.Listener, log *slog.Logger) error {
	app := zocket.NewApp(zocket.WithLogger(log)).Register("chat", chatroom.Actor())
	return websocket.Serve(ctx, ln, app, websocket.Options{Logger: log})
}
