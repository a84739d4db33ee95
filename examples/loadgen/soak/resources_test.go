package soak

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/zocket-go/zocket/internal/testsupport/poll"
)

// resources is what a run must give back.
type resources struct {
	Goroutines int
	FDs        int
	HeapKB     uint64 // live heap after a collection
}

func takeResources() resources {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fds, _ := os.ReadDir("/proc/self/fd")
	return resources{Goroutines: runtime.NumGoroutine(), FDs: len(fds), HeapKB: ms.HeapAlloc / 1024}
}

// heapSlackKB is the live heap a run may keep: buffer pools and caches
// that stay warm. A leak of a kilobyte per connection exceeds it at the
// medium and full sizes.
const heapSlackKB = 4 << 10

// within reports whether r is back to base.
func (r resources) within(base resources) bool {
	return r.Goroutines <= base.Goroutines && r.FDs <= base.FDs && r.HeapKB <= base.HeapKB+heapSlackKB
}

// settleResources polls until the resources are back to base, for at most d.
func settleResources(ctx context.Context, base resources, d time.Duration) (resources, error) {
	var now resources
	err := poll.Wait(ctx, d, func() (bool, error) {
		now = takeResources()
		return now.within(base), nil
	})
	if err != nil {
		return now, fmt.Errorf("%w; goroutines:\n%s", err, goroutineDump())
	}
	return now, nil
}

func goroutineDump() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}
