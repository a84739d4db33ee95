package transporttest

import (
	"context"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zocket-go/zocket/internal/testsupport/wstest"
)

// awaitCondition waits until cond holds, failing the test after
// wstest.Patience.
func awaitCondition(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wstest.Patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, wstest.Patience)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// awaitGoroutines waits until at most n goroutines run, failing the test
// with every goroutine's stack after wstest.Patience.
func awaitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(wstest.Patience)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: want at most %d, have %d\n%s", n, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// awaitClosed waits until c's connection ended, failing the test after
// wstest.Patience.
func awaitClosed(t *testing.T, c *wstest.Client) error {
	t.Helper()
	select {
	case <-c.Closed():
		return c.Err()
	case <-time.After(wstest.Patience):
		t.Fatalf("the connection was not closed within %v", wstest.Patience)
		return nil
	}
}

// recorder is a slog.Handler that keeps every record.
type recorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec.Clone())
	return nil
}

// find returns the first record whose message contains msg, and its
// attributes.
func (r *recorder) find(msg string) (slog.Record, map[string]string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rec := range r.records {
		if strings.Contains(rec.Message, msg) {
			attrs := map[string]string{}
			rec.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
			return rec, attrs, true
		}
	}
	return slog.Record{}, nil, false
}
