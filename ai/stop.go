package ai

import (
	"context"
	"errors"
	"sync"

	"github.com/zocket-go/zocket"
)

// ErrStopped is the cause of a run's context when Agent.Stop stopped it.
var ErrStopped = errors.New("ai: stopped")

// ErrTimeout is the error of a run that reached Agent.Timeout.
var ErrTimeout = errors.New("ai: generation timed out")

// runKey names a conversation: an instance of an App.
type runKey struct {
	app *zocket.App
	id  string
}

// run is a run in progress, as Stop sees it.
type run struct {
	cancel context.CancelCauseFunc
}

// runs is an Agent's registry of the runs in progress. It is what lets
// Stop reach a run from outside the conversation's mailbox, where the run
// itself is executing (a method of the conversation queued behind the run
// would only start after it).
type runs struct {
	mu sync.Mutex
	m  map[runKey]*run
}

func (rs *runs) start(k runKey, cancel context.CancelCauseFunc) *run {
	r := &run{cancel: cancel}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.m == nil {
		rs.m = make(map[runKey]*run)
	}
	rs.m[k] = r
	return r
}

func (rs *runs) end(k runKey, r *run) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.m[k] == r {
		delete(rs.m, k)
	}
}

func (rs *runs) stop(k runKey) bool {
	rs.mu.Lock()
	r := rs.m[k]
	rs.mu.Unlock()
	if r == nil {
		return false
	}
	r.cancel(ErrStopped)
	return true
}

func (rs *runs) stopAll(app *zocket.App) int {
	rs.mu.Lock()
	var stop []*run
	for k, r := range rs.m {
		if k.app == app {
			stop = append(stop, r)
		}
	}
	rs.mu.Unlock()
	for _, r := range stop {
		r.cancel(ErrStopped)
	}
	return len(stop)
}

// StopState is the state of the actor StopActor returns: it has none of
// its own.
type StopState struct{}

// Stopped is the result of the stop method: whether a run was in
// progress.
type Stopped struct {
	Stopped bool `json:"stopped"`
}
