package zocket

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"
)

// Forget erases instance (actor, id): its stored state and alarms are
// deleted from the Storage, and the instance starts again from its
// initial state (Actor.Initial), with a new epoch, so that subscribers
// and resuming clients get a snapshot of it. It runs through the
// instance's mailbox after the work already queued (activating the
// instance if it is not live), and waits for it or ctx. OnActivate does
// not run again. Without a Storage, or for an ephemeral actor type, only
// the state in memory is reset.
//
// A storage failure is returned and changes nothing; a concurrent writer
// elsewhere (another process on the same Storage) makes it fail with an
// error wrapping ErrConflict.
func (a *App) Forget(ctx context.Context, actor, id string) error {
	at, ok := a.actor(actor)
	if !ok {
		return &CallError{Message: "Unknown actor: " + actor, Kind: ErrUnknownActor}
	}
	done := make(chan error, 1)
	if err := a.withInstance(key{actor, id}, at, func(in *instance) {
		in.pushFunc(func() { done <- in.forget(ctx) })
	}); err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// forget deletes the stored state and resets the instance. Mailbox only.
func (in *instance) forget(ctx context.Context) error {
	in.mu.Lock()
	loadErr := in.loadErrorLocked()
	in.mu.Unlock()
	if d := in.dur; d != nil {
		in.mu.Lock()
		flushed := in.flushedLocked()
		in.mu.Unlock()
		select { // what is pending goes first: the delete expects its version
		case <-flushed:
		case <-ctx.Done():
			return ctx.Err()
		}
		in.mu.Lock()
		expect, broken := d.durable, d.broken
		in.mu.Unlock()
		if broken {
			return fmt.Errorf("%w: %s/%s: a write just failed; try again", ErrStorage, in.key.actor, in.key.id)
		}
		if loadErr != nil { // unreadable: delete what is there, whatever its version
			st, err := in.app.storage.Load(ctx, in.key.actor, in.key.id)
			if err != nil && st.Version == 0 {
				return fmt.Errorf("%w: forget %s/%s: %w", ErrStorage, in.key.actor, in.key.id, errors.Join(loadErr, err))
			}
			expect = st.Version
		}
		errs := in.app.storage.Write(ctx, []Write{{Actor: in.key.actor, ID: in.key.id, Expect: expect, Delete: true}})
		if errs != nil && errs[0] != nil {
			return fmt.Errorf("%w: forget %s/%s: %w", ErrStorage, in.key.actor, in.key.id, errs[0])
		}
		in.app.alarms.track(in.key, nil, time.Time{})
	}
	fresh := in.kind.newState()
	in.mu.Lock()
	in.state, in.spare = fresh, reflect.Value{}
	in.version, in.epoch = 0, newEpoch()
	in.forgetHistoryLocked(0)
	in.restartStaleLocked()
	if d := in.dur; d != nil {
		d.durable, d.alarms, d.loadErr = 0, nil, nil
		d.snapBytes, d.logBytes = 0, 0
		d.calls.reset(in.app.callMemory) // their answers were erased with the rest
	}
	pub := in.publishedLocked()
	frame, err := in.snapshotLocked()
	in.mu.Unlock()
	if err == nil {
		in.publish(pub, frame, true)
	}
	return nil
}
