package transporttest

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/wstest"
)

// pinged is a raw client that sees the server's control frames: it
// answers each ping itself, so a test can count them.
type pinged struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func dialPinged(t *testing.T, url string) *pinged {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wstest.Patience)
	defer cancel()
	nc, br, _, err := ws.Dial(ctx, url)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	p := &pinged{t: t, nc: nc, r: bufio.NewReader(nc)}
	if br != nil {
		p.r = br
	}
	return p
}

// next returns the next frame, answering a ping first.
func (p *pinged) next() ws.Frame {
	p.t.Helper()
	require.NoError(p.t, p.nc.SetReadDeadline(time.Now().Add(wstest.Patience)))
	f, err := ws.ReadFrame(p.r)
	require.NoError(p.t, err)
	if f.Header.OpCode == ws.OpPing {
		require.NoError(p.t, wsutil.WriteClientMessage(p.nc, ws.OpPong, f.Payload))
	}
	return f
}

// awaitPingAndAnswer reads frames up to a ping, and answers it.
func (p *pinged) awaitPingAndAnswer() {
	p.t.Helper()
	for p.next().Header.OpCode != ws.OpPing {
	}
}

// awaitText returns the next text frame, answering pings on the way.
func (p *pinged) awaitText() string {
	p.t.Helper()
	for {
		if f := p.next(); f.Header.OpCode == ws.OpText {
			return string(f.Payload)
		}
	}
}

// send sends a text frame.
func (p *pinged) send(text string) {
	p.t.Helper()
	require.NoError(p.t, wsutil.WriteClientText(p.nc, []byte(text)))
}

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
