package wsepoll_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/client"
	"github.com/zocket-go/zocket/transport/wsepoll"
)

// Serve an App from a raw listener, without net/http: idle connections
// then cost about 1.5 KB each and no goroutine.
func ExampleServe() {
	type Counter struct {
		Count int `json:"count"`
	}
	increment := zocket.MethodNoInput("increment", func(c *zocket.Context[Counter, zocket.NoData]) (int, error) {
		c.State.Count++
		return c.State.Count, nil
	})
	app := zocket.NewApp().Register("counter", zocket.NewActor[Counter]().Methods(increment))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- wsepoll.Serve(ctx, ln, app, wsepoll.Options{}) }()

	// The Go client, typed by the server's own method descriptor.
	cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Dial(cctx, "ws://"+ln.Addr().String(), client.Options{})
	if err != nil {
		panic(err)
	}
	h := c.Actor("counter", "a")
	n, err := client.Call(cctx, h, increment, struct{}{})
	fmt.Println(n, err)
	h.Release()
	c.Close()

	stop() // graceful: connections get 1001
	fmt.Println(<-served)
	fmt.Println(app.Close(context.Background())) // the App is yours to close: onDeactivate runs
	// Output:
	// 1 <nil>
	// <nil>
	// <nil>
}
