package diskstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/zocket-go/zocket"
)

// Write implements zocket.Storage. The Writes that pass their checks go to
// disk together as one synced batch: all of them or none. A Write fails
// alone for a wrong Expect (an error wrapping zocket.ErrConflict), for
// versions that do not follow Expect, or for a stored version it cannot
// decode (ErrCorrupt); if the batch cannot be written, every Write that
// passed fails with that error.
func (s *Store) Write(ctx context.Context, batch []zocket.Write) []error {
	errs := make([]error, len(batch))
	fail := func(err error) []error {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
		return errs
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return fail(ErrClosed)
	}
	b := s.db.NewBatch()
	defer b.Close()
	// versions holds the version after the Writes already in b, for an
	// instance written twice in one batch.
	versions := map[string]uint64{}
	failed := false
	for i := range batch {
		w := &batch[i]
		if errs[i] = s.add(b, versions, w); errs[i] != nil {
			errs[i] = instanceError(w.Actor, w.ID, errs[i])
			failed = true
		}
	}
	if !b.Empty() {
		if err := b.Commit(pebble.Sync); err != nil {
			return fail(fmt.Errorf("diskstore: write: %w", err))
		}
	}
	if !failed {
		return nil
	}
	return errs
}

// add checks w against the stored version and adds it to b.
func (s *Store) add(b *pebble.Batch, versions map[string]uint64, w *zocket.Write) error {
	in := encodeInstance(w.Actor, w.ID)
	have, ok := versions[string(in)]
	if !ok {
		var err error
		if have, err = readVersion(s.db, in); err != nil {
			return err
		}
	}
	if have != w.Expect {
		return fmt.Errorf("%w: at version %d, not %d", zocket.ErrConflict, have, w.Expect)
	}
	if err := w.Check(); err != nil {
		return err
	}
	if err := put(b, in, w); err != nil {
		return err
	}
	versions[string(in)] = w.Version()
	if w.Delete {
		versions[string(in)] = 0
	}
	return nil
}

// put adds the keys of w to b. A snapshot deletes the records it covers,
// and their calls.
func put(b *pebble.Batch, in instance, w *zocket.Write) error {
	if w.Delete {
		lower, upper := in.all(kindRecord)
		callsLower, callsUpper := in.all(kindCalls)
		return errors.Join(
			b.DeleteRange(lower, upper, nil),
			b.DeleteRange(callsLower, callsUpper, nil),
			b.Delete(in.key(kindSnapshot), nil),
			b.Delete(in.key(kindAlarms), nil),
			b.Delete(in.key(kindMeta), nil),
		)
	}
	var errs []error
	if w.Snapshot != nil {
		lower, upper := in.below(kindRecord, w.Snapshot.Version+1)
		callsLower, callsUpper := in.below(kindCalls, w.Snapshot.Version+1)
		errs = append(errs,
			b.DeleteRange(lower, upper, nil),
			b.DeleteRange(callsLower, callsUpper, nil),
			b.Set(in.key(kindSnapshot), encodeSnapshot(w.Snapshot), nil))
		if len(w.Snapshot.Calls) > 0 {
			errs = append(errs, b.Set(in.callsKey(w.Snapshot.Version), encodeCalls(w.Snapshot.Calls), nil))
		}
	}
	for _, r := range w.Records {
		errs = append(errs, b.Set(in.recordKey(r.Version), r.Patch, nil))
		if len(r.Calls) > 0 {
			errs = append(errs, b.Set(in.callsKey(r.Version), encodeCalls(r.Calls), nil))
		}
	}
	if w.SetAlarms {
		if len(w.Alarms) == 0 {
			errs = append(errs, b.Delete(in.key(kindAlarms), nil))
		} else {
			errs = append(errs, b.Set(in.key(kindAlarms), encodeAlarms(w.Alarms), nil))
		}
	}
	if v := w.Version(); v > 0 {
		errs = append(errs, b.Set(in.key(kindMeta), encodeVersion(v), nil))
	}
	return errors.Join(errs...)
}

// Alarms implements zocket.Storage. An alarms value it cannot decode does
// not hide the others: Alarms returns those it read together with an
// error wrapping ErrCorrupt that names the instances it skipped.
func (s *Store) Alarms(ctx context.Context) ([]zocket.InstanceAlarms, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return nil, ErrClosed
	}
	prefix := []byte{kindAlarms}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return nil, fmt.Errorf("diskstore: alarms: %w", err)
	}
	var out []zocket.InstanceAlarms
	var bad []error
	for it.First(); it.Valid(); it.Next() {
		actor, id, rest, err := decodeInstance(it.Key()[1:])
		if err == nil && len(rest) > 0 {
			err = errors.New("bytes after the instance")
		}
		if err != nil {
			bad = append(bad, fmt.Errorf("diskstore: alarm key %q: %w", it.Key(), corrupt("key", err)))
			continue
		}
		as, err := decodeAlarms(it.Value())
		if err != nil {
			bad = append(bad, instanceError(actor, id, corrupt("alarms", err)))
			continue
		}
		out = append(out, zocket.InstanceAlarms{Actor: actor, ID: id, Alarms: as})
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("diskstore: alarms: %w", err)
	}
	return out, errors.Join(bad...)
}
