package inspector

import (
	"cmp"
	"context"
	"errors"
	"math"
	"math/bits"
	"slices"
	"sync"
	"time"

	"github.com/zocket-go/zocket"
)

// UnknownMethod is the method name calls to undeclared methods are
// recorded under, so that callers inventing names cannot grow the
// Recorder.
const UnknownMethod = "(unknown method)"

// Recorder is a zocket.Observer that keeps what the inspector shows
// besides App.Instances: each live instance's last call, and each actor
// method's call count, errors and latency. Give it to the App with
// zocket.WithObserver (zocket.Observers combines it with others), and to
// the inspector in Options.Recorder.
//
// Its memory is bounded by the live instances and the declared methods:
// an instance's entry is dropped when the instance is deactivated, and
// calls to undeclared methods count under UnknownMethod. Each call costs
// one map update under a mutex.
type Recorder struct {
	zocket.NopObserver

	mu      sync.Mutex
	last    map[instanceKey]LastCall
	methods map[methodKey]*latency
}

type instanceKey struct{ actor, id string }

type methodKey struct{ actor, method string }

// LastCall is the last call an instance ran. In JSON the duration is in
// nanoseconds.
type LastCall struct {
	Method string `json:"method"`
	// Outcome is the zocket.Outcome as text: "ok", "error" or "panic".
	Outcome string `json:"outcome"`
	// Duration is how long it ran, its time in the mailbox not included.
	Duration time.Duration `json:"durationNs"`
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder {
	return &Recorder{last: map[instanceKey]LastCall{}, methods: map[methodKey]*latency{}}
}

// CallEnd records the call as its instance's last call and in its
// method's statistics.
func (r *Recorder) CallEnd(_ context.Context, call zocket.CallInfo, end zocket.CallEnd) {
	method := call.Method
	if errors.Is(end.Err, zocket.ErrUnknownMethod) {
		method = UnknownMethod
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last[instanceKey{call.Actor, call.ActorID}] = LastCall{Method: method, Outcome: end.Outcome.String(), Duration: end.Duration}
	mk := methodKey{call.Actor, method}
	l := r.methods[mk]
	if l == nil {
		l = &latency{}
		r.methods[mk] = l
	}
	l.add(end)
}

// Deactivated forgets the instance's last call.
func (r *Recorder) Deactivated(actor, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.last, instanceKey{actor, id})
}

// LastCall returns the last call the live instance ran; false if it ran
// none since it was activated.
func (r *Recorder) LastCall(actor, id string) (LastCall, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.last[instanceKey{actor, id}]
	return c, ok
}

// MethodStats are one actor method's calls since the Recorder started.
// In JSON the durations are in nanoseconds.
type MethodStats struct {
	Actor  string `json:"actor"`
	Method string `json:"method"`
	// Count is the number of calls; Errors and Panics count those that
	// failed (OutcomeError) and panicked (OutcomePanic).
	Count  uint64 `json:"count"`
	Errors uint64 `json:"errors"`
	Panics uint64 `json:"panics"`
	// Mean and Max are exact. P50 and P99 are upper bounds read from a
	// histogram of powers of two (1µs, 2µs, 4µs...): within a factor of
	// two of the true percentile, never above Max.
	Mean time.Duration `json:"meanNs"`
	P50  time.Duration `json:"p50Ns"`
	P99  time.Duration `json:"p99Ns"`
	Max  time.Duration `json:"maxNs"`
}

// Methods returns the statistics of every method called, sorted by actor
// then method.
func (r *Recorder) Methods() []MethodStats {
	r.mu.Lock()
	out := make([]MethodStats, 0, len(r.methods))
	for k, l := range r.methods {
		out = append(out, l.stats(k))
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b MethodStats) int {
		return cmp.Or(cmp.Compare(a.Actor, b.Actor), cmp.Compare(a.Method, b.Method))
	})
	return out
}

// buckets is the histogram's size: bucket 0 counts durations under 1µs,
// bucket i those under 2^i µs, the last one everything longer.
const buckets = 32

// latency is one method's statistics: a fixed size whatever the calls.
type latency struct {
	count, errors, panics uint64
	total, max            time.Duration
	hist                  [buckets]uint64
}

func (l *latency) add(end zocket.CallEnd) {
	l.count++
	switch end.Outcome {
	case zocket.OutcomeError:
		l.errors++
	case zocket.OutcomePanic:
		l.panics++
	}
	d := max(end.Duration, 0)
	l.total += d
	l.max = max(l.max, d)
	l.hist[min(bits.Len64(uint64(d/time.Microsecond)), buckets-1)]++
}

func (l *latency) stats(k methodKey) MethodStats {
	s := MethodStats{Actor: k.actor, Method: k.method, Count: l.count, Errors: l.errors, Panics: l.panics, Max: l.max}
	if l.count > 0 {
		s.Mean = l.total / time.Duration(l.count)
		s.P50, s.P99 = l.quantile(0.50), l.quantile(0.99)
	}
	return s
}

// quantile returns the upper bound of the bucket holding the q-quantile,
// capped by the largest duration seen.
func (l *latency) quantile(q float64) time.Duration {
	rank := max(uint64(math.Ceil(q*float64(l.count))), 1) // nearest rank, 1-based
	var seen uint64
	for i, n := range l.hist {
		if seen += n; seen >= rank {
			return min(time.Duration(1)<<i*time.Microsecond, l.max)
		}
	}
	return l.max
}
