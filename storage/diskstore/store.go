package diskstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"github.com/zocket-go/zocket"
)

var (
	// ErrLocked is wrapped by the error of Open when another Store, of this
	// process or another, has the directory open.
	ErrLocked = errors.New("diskstore: directory is locked by another store")
	// ErrCorrupt is wrapped by the error of a Load, Write or Alarms that
	// meets a stored value it cannot decode. The value is left as it is.
	ErrCorrupt = errors.New("diskstore: corrupt value")
	// ErrClosed is returned by the methods of a closed Store.
	ErrClosed = errors.New("diskstore: store is closed")
)

// lockFile is the file in the directory that Open locks.
const lockFile = "diskstore.lock"

// Store is a zocket.Storage in a directory on disk. It is safe for
// concurrent use; Writes are applied one at a time.
type Store struct {
	dir  string
	lock *os.File

	wmu sync.Mutex   // serializes Writes: the Expect checks need it
	mu  sync.RWMutex // guards db against Close
	db  *pebble.DB   // nil once closed
}

var _ zocket.Storage = (*Store)(nil)

// Open opens the Store in dir, creating dir and the Store if needed. It
// fails with an error wrapping ErrLocked when dir is open in another
// Store, and with one wrapping ErrInvalidOptions for bad opts.
func Open(dir string, opts Options) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("diskstore: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	events := pebble.MakeLoggingEventListener(engineLogger{logger})
	po := &pebble.Options{
		Logger:        engineLogger{logger},
		EventListener: &events,
		MemTableSize:  uint64(opts.MemTableSize),
		FS:            opts.fs,
	}
	if opts.CacheSize > 0 {
		c := pebble.NewCache(opts.CacheSize)
		defer c.Unref() // the DB holds its own reference
		po.Cache = c
	}
	db, err := pebble.Open(dir, po)
	if err == nil {
		err = checkFormat(db)
		if err != nil {
			_ = db.Close()
		}
	}
	if err != nil {
		unlock(lock)
		return nil, fmt.Errorf("diskstore: open %s: %w", dir, err)
	}
	return &Store{dir: dir, lock: lock, db: db}, nil
}

// checkFormat writes the format of a new store and refuses one written
// in another format.
func checkFormat(db *pebble.DB) error {
	v, c, err := db.Get(formatKey)
	if errors.Is(err, pebble.ErrNotFound) {
		return db.Set(formatKey, encodeVersion(formatVersion), pebble.Sync)
	}
	if err != nil {
		return err
	}
	defer c.Close()
	f, err := decodeVersion(v)
	if err != nil {
		return fmt.Errorf("%w: format: %w", ErrCorrupt, err)
	}
	if f != formatVersion {
		return fmt.Errorf("format %d is not %d, the one this version reads", f, formatVersion)
	}
	return nil
}

func unlock(f *os.File) {
	if f != nil {
		_ = f.Close()
	}
}

// Close closes the Store and releases its directory. Closing a closed
// Store does nothing.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return nil
	}
	err := s.db.Close()
	s.db = nil
	unlock(s.lock)
	if err != nil {
		return fmt.Errorf("diskstore: close %s: %w", s.dir, err)
	}
	return nil
}

// Load implements zocket.Storage. A stored value it cannot decode fails
// it with an error wrapping ErrCorrupt that names the instance.
func (s *Store) Load(ctx context.Context, actor, id string) (zocket.Stored, error) {
	if err := ctx.Err(); err != nil {
		return zocket.Stored{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return zocket.Stored{}, ErrClosed
	}
	snap := s.db.NewSnapshot() // one consistent view of the instance's keys
	defer snap.Close()
	st, err := load(snap, encodeInstance(actor, id))
	if err != nil {
		return zocket.Stored{}, instanceError(actor, id, err)
	}
	return st, nil
}

func load(r pebble.Reader, in instance) (zocket.Stored, error) {
	var st zocket.Stored
	version, err := readVersion(r, in)
	if err != nil {
		return zocket.Stored{}, err
	}
	st.Version = version
	next := uint64(1)
	if v, ok, err := get(r, in.key(kindSnapshot)); err != nil {
		return zocket.Stored{}, err
	} else if ok {
		if st.Snapshot, err = decodeSnapshot(v); err != nil {
			return zocket.Stored{}, corrupt("snapshot", err)
		}
		if !json.Valid(st.Snapshot.State) {
			return zocket.Stored{}, corrupt("snapshot", errors.New("state is not JSON"))
		}
		next = st.Snapshot.Version + 1
	}
	if st.Records, err = readRecords(r, in, next); err != nil {
		return zocket.Stored{}, err
	}
	if next+uint64(len(st.Records)) != version+1 {
		return zocket.Stored{}, corrupt("records", fmt.Errorf("they end at %d, not at version %d",
			next+uint64(len(st.Records))-1, version))
	}
	if err := readCalls(r, in, &st); err != nil {
		return zocket.Stored{}, err
	}
	if v, ok, err := get(r, in.key(kindAlarms)); err != nil {
		return zocket.Stored{}, err
	} else if ok {
		if st.Alarms, err = decodeAlarms(v); err != nil {
			return zocket.Stored{}, corrupt("alarms", err)
		}
	}
	return st, nil
}

// readRecords returns in's records, which must have consecutive versions
// from next.
func readRecords(r pebble.Reader, in instance, next uint64) ([]zocket.Record, error) {
	lower, upper := in.all(kindRecord)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, err
	}
	var rs []zocket.Record
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()[len(lower):]
		if len(k) != 8 {
			_ = it.Close()
			return nil, corrupt("record key", errors.New("version is not 8 bytes"))
		}
		rec := zocket.Record{Version: beUint64(k), Patch: append([]byte(nil), it.Value()...)}
		if rec.Version != next || !json.Valid(rec.Patch) {
			_ = it.Close()
			return nil, corrupt("record", fmt.Errorf("version %d (want %d) or patch not JSON", rec.Version, next))
		}
		rs = append(rs, rec)
		next++
	}
	return rs, it.Close()
}

// readCalls adds to st's snapshot and records the answers of calls stored
// with them.
func readCalls(r pebble.Reader, in instance, st *zocket.Stored) error {
	first := uint64(1) // the version of st.Records[0]
	if st.Snapshot != nil {
		first = st.Snapshot.Version + 1
	}
	lower, upper := in.all(kindCalls)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: in.callsKey(first - 1), UpperBound: upper})
	if err != nil {
		return err
	}
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()[len(lower):]
		if len(k) != 8 {
			_ = it.Close()
			return corrupt("calls key", errors.New("version is not 8 bytes"))
		}
		calls, err := decodeCalls(it.Value())
		v := beUint64(k)
		switch {
		case err != nil:
		case st.Snapshot != nil && v == st.Snapshot.Version:
			st.Snapshot.Calls = calls
		case v >= first && v-first < uint64(len(st.Records)):
			st.Records[v-first].Calls = calls
		default:
			err = fmt.Errorf("version %d has no record", v)
		}
		if err != nil {
			_ = it.Close()
			return corrupt("calls", err)
		}
	}
	return it.Close()
}

// readVersion returns in's version, 0 when nothing is stored.
func readVersion(r pebble.Reader, in instance) (uint64, error) {
	v, ok, err := get(r, in.key(kindMeta))
	if err != nil || !ok {
		return 0, err
	}
	version, err := decodeVersion(v)
	if err != nil {
		return 0, corrupt("version", err)
	}
	return version, nil
}

// get returns a copy of the value of key, and whether there is one.
func get(r pebble.Reader, key []byte) ([]byte, bool, error) {
	v, c, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		if pebble.IsCorruptionError(err) {
			err = fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		return nil, false, err
	}
	defer c.Close()
	return append([]byte(nil), v...), true, nil
}

func corrupt(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrCorrupt, what, err)
}

func instanceError(actor, id string, err error) error {
	return fmt.Errorf("diskstore: %q/%q: %w", actor, id, err)
}

func beUint64(b []byte) uint64 {
	v, _ := decodeVersion(b)
	return v
}
