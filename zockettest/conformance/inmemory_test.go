package conformance_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/zocket-go/zocket/client"
	"github.com/zocket-go/zocket/zockettest"
	"github.com/zocket-go/zocket/zockettest/conformance"
	"github.com/zocket-go/zocket/zockettest/conformance/fixtures"
)

// TestConformance_OverAnInMemoryFraming runs the suite through a framing
// that is not WebSockets: in-memory pipes to a zockettest.Server. Every
// check passes but the two of WebSocket framing, which skip.
func TestConformance_OverAnInMemoryFraming(t *testing.T) {
	conformance.Run(t, inMemory(t))
}

// inMemory is a target whose addresses name zockettest.Servers, one per
// check, reached through their in-memory Dial.
func inMemory(t *testing.T) conformance.Target {
	var (
		mu      sync.Mutex
		servers = map[string]*zockettest.Server{}
	)
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if len(servers) > 0 {
			t.Errorf("servers left after their checks: %d", len(servers))
		}
	})
	return conformance.Target{
		Start: func(tb testing.TB) string {
			app, _ := fixtures.NewApp()
			addr := "mem://" + tb.Name()
			mu.Lock()
			servers[addr] = zockettest.NewServer(app, zockettest.Options{})
			mu.Unlock()
			tb.Cleanup(func() {
				mu.Lock()
				delete(servers, addr)
				mu.Unlock()
				if err := app.Close(context.Background()); err != nil {
					tb.Errorf("close app: %v", err)
				}
			})
			return addr
		},
		Dial: func(ctx context.Context, addr string) (client.Socket, error) {
			mu.Lock()
			srv := servers[addr]
			mu.Unlock()
			if srv == nil {
				return nil, fmt.Errorf("no server at %s", addr)
			}
			return srv.Dial(ctx, addr)
		},
	}
}
