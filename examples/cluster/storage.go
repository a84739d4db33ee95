package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/storage/natsstore"
)

// Values of -storage: where the runtime keeps its actors' state.
const (
	storageJetStream = "jetstream" // natsstore, in the stream natsstore.DefaultStream
	storageMemory    = "memory"    // nowhere: every instance starts afresh
)

// openStorage returns the Storage the runtime's App keeps its actors in,
// on the runtime's NATS connection; nil for -storage=memory. The caller
// closes it after the App.
func openStorage(ctx context.Context, kind string, nc *nats.Conn, log *slog.Logger) (zocket.Storage, error) {
	if kind == storageMemory {
		return nil, nil
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	store, err := natsstore.New(ctx, js, natsstore.Options{Logger: log})
	if err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	return store, nil
}
