// Package natsserver runs a NATS server with JetStream inside the process,
// for tests and for examples/cluster's zero-install default.
package natsserver

import (
	"errors"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Options for Start.
type Options struct {
	// Port to listen on, on 127.0.0.1; 0 picks a free one.
	Port int
	// StoreDir holds JetStream's files (the streams here are in memory,
	// but JetStream needs a directory); required.
	StoreDir string
}

// Start starts a server and waits until it accepts connections. Stop it
// with Shutdown (and WaitForShutdown).
func Start(o Options) (*server.Server, error) {
	port := o.Port
	if port == 0 {
		port = -1 // random
	}
	s, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: o.StoreDir,
		NoLog: true, NoSigs: true,
	})
	if err != nil {
		return nil, err
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, errors.New("natsserver: not ready after 10s")
	}
	return s, nil
}
