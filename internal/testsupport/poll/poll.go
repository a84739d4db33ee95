// Package poll waits in tests for a condition that no event announces,
// such as goroutines exiting or file descriptors closing after real
// sockets close.
//
// Prefer a synctest bubble or an explicit event (a channel, a callback, a
// frame); poll only what cannot be observed otherwise. The deadline only
// bounds a failure: a condition that holds returns as soon as it is seen.
package poll

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// Deadline bounds how long Until and Wait wait before giving up. It is
// generous on purpose: a passing test never waits for it.
const Deadline = 30 * time.Second

// interval is the pause between two checks.
const interval = 5 * time.Millisecond

// Until checks cond until it holds and fails t if it still does not
// after Deadline; what names the awaited condition in the failure.
func Until(t testing.TB, cond func() bool, what string) {
	t.Helper()
	err := Wait(context.Background(), Deadline, func() (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("never %s: %v", what, err)
	}
}

// Wait checks cond until it holds, for at most d or until ctx ends. It
// returns cond's last error if there was one, else an error saying the
// condition was not met; nil once cond holds.
func Wait(ctx context.Context, d time.Duration, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	tick := time.NewTicker(interval)
	defer tick.Stop()
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
			return fmt.Errorf("condition not met within %v: %w", d, context.Cause(ctx))
		case <-tick.C:
		}
	}
}
