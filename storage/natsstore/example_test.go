package natsstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/internal/natsserver"
	"github.com/zocket-go/zocket/storage/natsstore"
)

func Example() {
	dir, _ := os.MkdirTemp("", "natsstore-example")
	defer os.RemoveAll(dir)
	srv, err := natsserver.Start(natsserver.Options{StoreDir: dir}) // or your NATS cluster
	if err != nil {
		panic(err)
	}
	defer srv.Shutdown()
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		panic(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)

	ctx := context.Background()
	store, err := natsstore.New(ctx, js, natsstore.Options{})
	if err != nil {
		panic(err)
	}
	defer store.Close()

	// What an App does: write snapshots and records, then load them back.
	errs := store.Write(ctx, []zocket.Write{{
		Actor: "counter", ID: "c1",
		Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{"count":1}`)},
		Records:  []zocket.Record{{Version: 2, Patch: json.RawMessage(`[{"op":"replace","path":"/count","value":2}]`)}},
	}})
	fmt.Println("write errors:", errs)
	st, _ := store.Load(ctx, "counter", "c1")
	fmt.Println("version", st.Version, "snapshot", string(st.Snapshot.State), "records", len(st.Records))
	// Output:
	// write errors: []
	// version 2 snapshot {"count":1} records 1
}
