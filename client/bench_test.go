package client_test

import (
	"context"
	"testing"

	"github.com/zocket-go/zocket/client"
)

// BenchmarkClientRPC is one typed-free call round trip over loopback to a
// Go server (the fixtures' "plain" counter, like examples/bench's counter).
func BenchmarkClientRPC(b *testing.B) {
	srv := startServer(b, "127.0.0.1:0")
	c := dial(b, srv.url, client.Options{})
	h := c.Actor("plain", "bench")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Call(ctx, "increment", nil); err != nil {
			b.Fatal(err)
		}
	}
}
