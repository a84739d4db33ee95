package diskstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/storage/diskstore"
)

type counter struct {
	Count int `json:"count"`
}

var increment = zocket.MethodNoInput("increment", func(c *zocket.Context[counter, zocket.NoData]) (int, error) {
	c.State.Count++
	return c.State.Count, nil
})

// Two runs of a program on the same directory: the counter's state, kept
// by the Store, survives the restart.
func Example() {
	dir, err := os.MkdirTemp("", "diskstore-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()

	for run := 1; run <= 2; run++ {
		store, err := diskstore.Open(dir, diskstore.Options{})
		if err != nil {
			panic(err)
		}
		app := zocket.NewApp(zocket.WithStorage(store)).
			Register("counter", zocket.NewActor[counter]().Methods(increment))

		// The result comes back once the change is on disk (zocket.Gated).
		n, err := increment.Invoke(ctx, app, "counter", "c1", zocket.None{})
		if err != nil {
			panic(err)
		}
		fmt.Println("run", run, "count", n)

		// Close the App first (it writes what is pending), then the Store.
		if err := app.Close(ctx); err != nil {
			panic(err)
		}
		if err := store.Close(); err != nil {
			panic(err)
		}
	}
	// Output:
	// run 1 count 1
	// run 2 count 2
}

// The Store through the zocket.Storage interface, as the App uses it.
func Example_storageInterface() {
	dir, err := os.MkdirTemp("", "diskstore-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	store, err := diskstore.Open(dir, diskstore.Options{})
	if err != nil {
		panic(err)
	}
	defer store.Close()

	// The first snapshot of one instance and a change after it, in one
	// synced batch.
	var storage zocket.Storage = store
	ctx := context.Background()
	errs := storage.Write(ctx, []zocket.Write{{
		Actor: "counter", ID: "c1",
		Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{"count":0}`)},
		Records:  []zocket.Record{{Version: 2, Patch: json.RawMessage(`[{"op":"replace","path":"/count","value":1}]`)}},
	}})
	if errs != nil {
		panic(fmt.Sprint(errs))
	}

	st, err := storage.Load(ctx, "counter", "c1")
	if err != nil {
		panic(err)
	}
	fmt.Println("version:", st.Version)
	fmt.Println("snapshot:", string(st.Snapshot.State))
	fmt.Println("records:", len(st.Records))
	// Output:
	// version: 2
	// snapshot: {"count":0}
	// records: 1
}
