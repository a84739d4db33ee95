package diskstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/storage/diskstore"
)

func Example() {
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

	// The App writes through the zocket.Storage interface: here, the first
	// snapshot of one instance and a change after it, in one synced batch.
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
