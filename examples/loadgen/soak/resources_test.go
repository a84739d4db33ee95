package soak

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"time"
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
	err := pollUntil(ctx, d, func() (bool, error) {
		now = takeResources()
		return now.within(base), nil
	})
	if err != nil {
		return now, fmt.Errorf("%w; goroutines:\n%s", err, goroutineDump())
	}
	return now, nil
}

// pollInterval is the pause between two checks of pollUntil.
const pollInterval = 10 * time.Millisecond

// pollUntil checks cond until it holds, for at most d; it returns cond's
// last error, or a timeout error.
func pollUntil(ctx context.Context, d time.Duration, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return err
			}
			return fmt.Errorf("condition not met within %v", d)
		case <-time.After(pollInterval):
		}
	}
}

func goroutineDump() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}
