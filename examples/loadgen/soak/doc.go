// Package soak holds the soak test of a zocket server: many client
// connections churn against one server over loopback (open, subscribe,
// call, close; some vanish by dropping the TCP connection without a
// WebSocket close, some while their calls are in flight), on
// transport/wshttp and transport/wsepoll. Afterwards it checks that
//
//   - every call of a connection that stayed was answered exactly once,
//     and no result came for a call never made;
//   - every long-lived subscriber's state (snapshot plus every patch
//     applied) equals the server's state;
//   - every instance saw every connection leave (its connect and
//     disconnect hooks balance), and destroying them leaves no instance;
//   - goroutines, open file descriptors and the live heap return to what
//     they were before the churn while the server still serves, and to
//     what they were before the server started once it has stopped.
//
// By default (go test ./...) it runs small: 100 connections, 2,000 calls,
// as fast as they go. ZOCKET_SOAK selects a larger run:
//
//	ZOCKET_SOAK=full go test -run TestSoak -timeout 30m ./examples/loadgen/soak/
//
// runs 10,000 connections and 1,000,000 calls spread over 10 minutes per
// transport (1,000 connections open at a time: the client and the server
// share the process, so each connection costs two file descriptors);
// ZOCKET_SOAK=medium runs 1,000 connections and 100,000 calls over 60 s.
// A run can also be given field by field, e.g.
// ZOCKET_SOAK=conns=2000,calls=50000,open=200,actors=20,duration=30s,transports=wsepoll.
// Run the large sizes without -race: the race detector allows at most 8,128
// live goroutines.
package soak
