// Package memstore is a zocket.Storage in memory, for tests: it keeps
// everything an App writes for as long as the Store lives, so a test can
// close an App and open another one on the same Store to see what survives.
// It can also be told to fail writes (FailWrites), to test what an App does
// when its storage cannot write.
package memstore

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/zocket-go/zocket"
)

// Store is an in-memory zocket.Storage. It is safe for concurrent use.
type Store struct {
	mu        sync.Mutex
	instances map[instanceKey]*stored
	fail      error
	writes    int
	bytes     int
}

type instanceKey struct{ actor, id string }

type stored struct {
	version  uint64
	snapshot *zocket.Snapshot
	records  []zocket.Record
	alarms   []zocket.Alarm
}

// New returns an empty Store.
func New() *Store { return &Store{instances: map[instanceKey]*stored{}} }

// FailWrites makes every later Write fail with err (nil: write again).
func (s *Store) FailWrites(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

// Stats returns how many Writes were stored and the bytes of their
// snapshots and records, with the answers of calls stored with them.
func (s *Store) Stats() (writes, bytes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes, s.bytes
}

// Load implements zocket.Storage.
func (s *Store) Load(ctx context.Context, actor, id string) (zocket.Stored, error) {
	if err := ctx.Err(); err != nil {
		return zocket.Stored{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.instances[instanceKey{actor, id}]
	if st == nil {
		return zocket.Stored{}, nil
	}
	out := zocket.Stored{Version: st.version, Records: cloneRecords(st.records), Alarms: cloneAlarms(st.alarms)}
	if st.snapshot != nil {
		out.Snapshot = cloneSnapshot(st.snapshot)
	}
	return out, nil
}

// Write implements zocket.Storage.
func (s *Store) Write(ctx context.Context, batch []zocket.Write) []error {
	errs := make([]error, len(batch))
	failed := false
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range batch {
		if errs[i] = s.write(ctx, &batch[i]); errs[i] != nil {
			failed = true
		}
	}
	if !failed {
		return nil
	}
	return errs
}

func (s *Store) write(ctx context.Context, w *zocket.Write) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.fail != nil {
		return s.fail
	}
	k := instanceKey{w.Actor, w.ID}
	st := s.instances[k]
	var have uint64
	if st != nil {
		have = st.version
	}
	if have != w.Expect {
		return fmt.Errorf("%w: %s/%s is at version %d, not %d", zocket.ErrConflict, w.Actor, w.ID, have, w.Expect)
	}
	if err := w.Check(); err != nil {
		return err
	}
	s.writes++
	if w.Delete {
		delete(s.instances, k)
		return nil
	}
	if st == nil {
		st = &stored{}
		s.instances[k] = st
	}
	if w.Snapshot != nil {
		st.snapshot = cloneSnapshot(w.Snapshot)
		st.records = nil
		s.bytes += len(w.Snapshot.State) + zocket.CallBytes(w.Snapshot.Calls)
	}
	for _, r := range w.Records {
		st.records = append(st.records, zocket.Record{Version: r.Version, Patch: bytes.Clone(r.Patch), Calls: cloneCalls(r.Calls)})
		s.bytes += len(r.Patch) + zocket.CallBytes(r.Calls)
	}
	if w.SetAlarms {
		st.alarms = cloneAlarms(w.Alarms)
	}
	st.version = w.Version()
	return nil
}

// Alarms implements zocket.Storage.
func (s *Store) Alarms(ctx context.Context) ([]zocket.InstanceAlarms, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []zocket.InstanceAlarms
	for k, st := range s.instances {
		if len(st.alarms) > 0 {
			out = append(out, zocket.InstanceAlarms{Actor: k.actor, ID: k.id, Alarms: cloneAlarms(st.alarms)})
		}
	}
	return out, nil
}

// Close implements zocket.Storage; a closed Store keeps its contents.
func (s *Store) Close() error { return nil }

func cloneSnapshot(s *zocket.Snapshot) *zocket.Snapshot {
	return &zocket.Snapshot{Version: s.Version, State: bytes.Clone(s.State), Epoch: s.Epoch, Calls: cloneCalls(s.Calls)}
}

func cloneRecords(rs []zocket.Record) []zocket.Record {
	out := slices.Clone(rs)
	for i := range out {
		out[i].Patch = bytes.Clone(out[i].Patch)
		out[i].Calls = cloneCalls(out[i].Calls)
	}
	return out
}

func cloneCalls(cs []zocket.CallRecord) []zocket.CallRecord {
	out := slices.Clone(cs)
	for i := range out {
		out[i].Result = bytes.Clone(out[i].Result)
	}
	return out
}

func cloneAlarms(as []zocket.Alarm) []zocket.Alarm {
	out := slices.Clone(as)
	for i := range out {
		out[i].Input = bytes.Clone(out[i].Input)
	}
	return out
}
