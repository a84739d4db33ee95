// Command baseline is the yardstick for rtt: a bare coder/websocket server,
// no framework, that answers every rpc frame with an rpc:result carrying the
// request's id and a per-connection counter, so the load generator can run
// its rtt scenario against it beside examples/bench:
//
//	PORT=3001 go run ./examples/bench/baseline
package main

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/coder/websocket"

	"github.com/zocket-go/zocket/examples/internal/exampleserver"
)

func main() { exampleserver.Main("baseline", serve) }

func serve(ctx context.Context, ln net.Listener, log *slog.Logger) error {
	srv := &http.Server{Handler: http.HandlerFunc(echo), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

func echo(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	ctx := context.Background()
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":"welcome","clientId":"base"}`)); err != nil {
		return
	}
	n := 0
	out := make([]byte, 0, 128)
	for {
		_, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		n++
		out = append(out[:0], `{"type":"rpc:result","id":`...)
		out = append(out, rpcID(msg)...)
		out = append(out, `,"result":`...)
		out = strconv.AppendInt(out, int64(n), 10)
		out = append(out, '}')
		if err := c.Write(ctx, websocket.MessageText, out); err != nil {
			return
		}
	}
}

// rpcID returns the raw "id" value of a frame whose id is a JSON string.
func rpcID(msg []byte) []byte {
	i := bytes.Index(msg, []byte(`"id":"`))
	if i < 0 {
		return []byte("null")
	}
	rest := msg[i+5:]
	end := bytes.IndexByte(rest[1:], '"')
	if end < 0 {
		return []byte("null")
	}
	return rest[:end+2]
}
