package diskstore

import (
	"errors"
	"fmt"
	"log/slog"
	"math"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// ErrInvalidOptions is wrapped by the error of Options.Validate (and so of
// Open) for a value out of range.
var ErrInvalidOptions = errors.New("diskstore: invalid options")

// maxMemTableSize is the largest memtable the engine takes (it refuses
// math.MaxUint32 and more).
const maxMemTableSize = math.MaxUint32 - 1

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// Logger receives the engine's events: background work (flushes,
	// compactions, log files) at Debug level, errors at Error level. Nil
	// discards them.
	Logger *slog.Logger
	// CacheSize is the size in bytes of the cache of blocks read from disk;
	// 0 means the engine's default (8 MiB).
	CacheSize int64
	// MemTableSize is the size in bytes of the in-memory table that takes
	// writes before they are written out to a sorted file; 0 means the
	// engine's default (4 MiB). Less than 4 GiB - 1.
	MemTableSize int64

	// fs replaces the engine's file system, for tests.
	fs vfs.FS
}

// Validate reports a value out of range with an error wrapping
// ErrInvalidOptions.
func (o Options) Validate() error {
	switch {
	case o.CacheSize < 0:
		return fmt.Errorf("%w: CacheSize %d is negative", ErrInvalidOptions, o.CacheSize)
	case o.MemTableSize < 0 || o.MemTableSize > maxMemTableSize:
		return fmt.Errorf("%w: MemTableSize %d is not in [0, %d]", ErrInvalidOptions, o.MemTableSize, maxMemTableSize)
	}
	return nil
}

// engineLogger passes the engine's log lines to a slog.Logger.
type engineLogger struct{ l *slog.Logger }

func (e engineLogger) Infof(format string, args ...any) {
	e.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}

func (e engineLogger) Errorf(format string, args ...any) {
	e.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}

// Fatalf is called by the engine for a state it cannot go on from; the
// engine expects it not to return.
func (e engineLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	e.l.Error(msg, "component", "pebble", "fatal", true)
	panic("diskstore: " + msg)
}
