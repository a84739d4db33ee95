package natscluster_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/client"
	"github.com/zocket-go/zocket/internal/natsserver"
	"github.com/zocket-go/zocket/storage/natsstore"
	"github.com/zocket-go/zocket/transport/natscluster"
)

// Two runtimes share one scope: INBOUND is split into partitions, each
// pulled by one runtime at a time, and the durable state lives in
// JetStream, so an instance finds it wherever it is activated. When one
// runtime stops, the other takes its partitions over.
func ExampleRuntimeOptions_partitions() {
	dir, _ := os.MkdirTemp("", "example-nats-*")
	defer os.RemoveAll(dir)
	srv, err := natsserver.Start(natsserver.Options{StoreDir: dir})
	if err != nil {
		panic(err)
	}
	defer srv.Shutdown()
	ctx := context.Background()
	scope := natscluster.Namespace{WorkspaceID: "acme", ProjectID: "shop"}

	type Counter struct {
		Count int `json:"count"`
	}
	increment := zocket.MethodNoInput("increment", func(c *zocket.Context[Counter, zocket.NoData]) (int, error) {
		c.State.Count++
		return c.State.Count, nil
	})
	runtime := func(id string) (stop func()) {
		nc, _ := nats.Connect(srv.ClientURL())
		js, _ := jetstream.New(nc)
		store, err := natsstore.New(ctx, js, natsstore.Options{})
		if err != nil {
			panic(err)
		}
		app := zocket.NewApp(zocket.WithStorage(store)).Register("counter", zocket.NewActor[Counter]().Methods(increment))
		rt, err := natscluster.NewRuntime(nc, app, natscluster.RuntimeOptions{Namespace: scope,
			Partitions: 8, RuntimeID: id, Streams: natscluster.StreamOptions{FileStorage: true}})
		if err != nil {
			panic(err)
		}
		if err := rt.Start(ctx); err != nil {
			panic(err)
		}
		return func() { rt.Stop(ctx); app.Close(ctx); nc.Close() }
	}
	stop1 := runtime("rt1")
	stop2 := runtime("rt2")
	defer stop2()

	gnc, _ := nats.Connect(srv.ClientURL())
	defer gnc.Close()
	g, err := natscluster.NewGateway(ctx, gnc, natscluster.GatewayOptions{Authorizer: natscluster.StaticAuthorizer{Namespace: scope}})
	if err != nil {
		panic(err)
	}
	web := httptest.NewServer(g)
	defer web.Close()
	defer g.Shutdown(ctx)

	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := client.Dial(cctx, "ws"+strings.TrimPrefix(web.URL, "http"), client.Options{})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	for range 3 {
		client.Call(cctx, c.Actor("counter", "a"), increment, struct{}{})
	}
	stop1() // rt1 hands its partitions over
	n, err := client.Call(cctx, c.Actor("counter", "a"), increment, struct{}{})
	fmt.Println(n, err)
	// Output: 4 <nil>
}
