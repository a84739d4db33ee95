package natscluster_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/client"
	"github.com/zocket-go/zocket/internal/natsserver"
	"github.com/zocket-go/zocket/transport/natscluster"
)

// A runtime hosting an App and a gateway in front of it, over one NATS
// server; in production they run in different processes (see
// examples/cluster).
func Example() {
	dir, _ := os.MkdirTemp("", "example-nats-*")
	defer os.RemoveAll(dir)
	srv, err := natsserver.Start(natsserver.Options{StoreDir: dir}) // or your NATS cluster
	if err != nil {
		panic(err)
	}
	defer srv.Shutdown()
	ctx := context.Background()
	scope := natscluster.Namespace{WorkspaceID: "acme", ProjectID: "shop"}

	// Runtime: the actors.
	type Counter struct {
		Count int `json:"count"`
	}
	increment := zocket.MethodNoInput("increment", func(c *zocket.Context[Counter, zocket.NoData]) (int, error) {
		c.State.Count++
		return c.State.Count, nil
	})
	app := zocket.NewApp().Register("counter", zocket.NewActor[Counter]().Methods(increment))
	rnc, _ := nats.Connect(srv.ClientURL())
	defer rnc.Close()
	rt, err := natscluster.NewRuntime(rnc, app, natscluster.RuntimeOptions{Namespace: scope})
	if err != nil {
		panic(err)
	}
	if err := rt.Start(ctx); err != nil {
		panic(err)
	}
	defer rt.Stop(ctx)

	// Gateway: the sockets. A control plane would authorize with
	// &natscluster.HTTPAuthorizer{URL: ..., Token: ...}.
	gnc, _ := nats.Connect(srv.ClientURL())
	defer gnc.Close()
	g, err := natscluster.NewGateway(ctx, gnc, natscluster.GatewayOptions{Authorizer: natscluster.StaticAuthorizer{Namespace: scope}})
	if err != nil {
		panic(err)
	}
	web := httptest.NewServer(g)
	defer web.Close()
	defer g.Shutdown(ctx)

	// A client, as against a single process.
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := client.Dial(cctx, "ws"+strings.TrimPrefix(web.URL, "http"), client.Options{})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	n, err := client.Call(cctx, c.Actor("counter", "a"), increment, struct{}{})
	fmt.Println(n, err)
	// Output: 1 <nil>
}
