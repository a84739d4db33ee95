package zockettest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/client"
	"github.com/zocket-go/zocket/zockettest"
)

// Counter is the state of the examples' actor.
type Counter struct {
	Count int `json:"count"`
}

var add = zocket.Method("add", func(c *zocket.Context[Counter, zocket.NoData], n int) (int, error) {
	c.State.Count += n
	return c.State.Count, nil
})

func counterApp() *zocket.App {
	return zocket.NewApp().Register("counter", zocket.NewActor[Counter]().Methods(add))
}

// The typed Go client talks to an App in-process: the Server's Dial is the
// client's Dialer. In a test, srv.Client(t, opts) does the same and closes
// the client when the test ends.
func Example() {
	srv := zockettest.NewServer(counterApp(), zockettest.Options{})
	ctx := context.Background()
	c, err := client.Dial(ctx, zockettest.URL, client.Options{Dial: srv.Dial})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	h := c.Actor("counter", "a")
	defer h.Release()
	client.Call(ctx, h, add, 2)
	n, err := client.Call(ctx, h, add, 3)
	fmt.Println(n, err, c.ClientID())
	// Output: 5 <nil> zt-client-1
}

// Drop plays a server restart: calls in flight fail with its reason, the
// client reconnects and later calls go through.
func ExampleServer_Drop() {
	srv := zockettest.NewServer(counterApp(), zockettest.Options{})
	ctx := context.Background()
	c, _ := client.Dial(ctx, zockettest.URL, client.Options{Dial: srv.Dial,
		ReconnectDelay: func(int) time.Duration { return 0 }})
	defer c.Close()
	reconnected := make(chan struct{})
	off := c.OnStatus(func(s client.Status) {
		fmt.Println(s)
		if s == client.Connected {
			close(reconnected)
		}
	})
	defer off()

	srv.Drop("restarting")
	<-reconnected
	n, err := client.Call(ctx, c.Actor("counter", "a"), add, 1)
	fmt.Println(n, err, c.ClientID())
	// Output:
	// reconnecting
	// connected
	// 1 <nil> zt-client-2
}

// Identify gives each connection its identity, or refuses it: a
// *client.HandshakeError with 401 makes the client stop at once, as a
// server rejecting a token would.
func ExampleOptions_identify() {
	srv := zockettest.NewServer(counterApp(), zockettest.Options{
		Identify: func(url string) (zocket.Identity, error) {
			if url != zockettest.URL+"?token=secret" {
				return zocket.Identity{}, &client.HandshakeError{StatusCode: 401, Err: errors.New("bad token")}
			}
			return zocket.Identity{UserID: "alice"}, nil
		}})
	_, err := client.Dial(context.Background(), zockettest.URL, client.Options{Dial: srv.Dial})
	var refused *client.HandshakeError
	fmt.Println(errors.As(err, &refused), refused.StatusCode)
	// Output: true 401
}
