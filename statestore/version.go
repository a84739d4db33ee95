package statestore

import (
	"encoding/json"

	"github.com/zocket-go/zocket/protocol"
)

// A Go server places each state:snapshot and state:patch of an instance in
// the instance's history with a version and an epoch: patches of one
// instance have consecutive versions, a snapshot has the version of the
// state it carries, and the epoch changes when the history is lost
// (versions then restart, so versions of different epochs are not
// comparable). A Store that knows the version of its state applies a
// versioned patch only if it is the next one; see ApplyVersionedPatch.

// position is a state's place in the instance's history; ok is false when
// the state has no known version (no snapshot yet, or a server without
// versions).
type position struct {
	version uint64
	epoch   string
	ok      bool
}

// Outcome is what ApplyVersionedPatch did with a patch.
type Outcome int

// Outcomes of ApplyVersionedPatch.
const (
	// Ignored: nothing changed, because there is no state yet (patches
	// before the first snapshot are ignored) or the patch failed to apply.
	Ignored Outcome = iota
	// Applied: the patch was the next version; the state moved to it.
	Applied
	// Duplicate: the state already includes this version; nothing changed.
	Duplicate
	// Gap: the patch does not follow the state (versions are missing, it
	// belongs to another epoch, or the state has no version); nothing
	// changed. The owner should resubscribe with the version it has, to get
	// the missing patches or a fresh snapshot.
	Gap
)

// String returns the outcome's name in lower case.
func (o Outcome) String() string {
	switch o {
	case Applied:
		return "applied"
	case Duplicate:
		return "duplicate"
	case Gap:
		return "gap"
	}
	return "ignored"
}

// Version returns the version and epoch of the state, and whether they
// are known: they are after a versioned snapshot and the versioned patches
// that followed it, and not after an unversioned snapshot or patch or a
// patch that failed.
func (s *Store) Version() (version uint64, epoch string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.at.version, s.at.epoch, s.at.ok
}

// ApplyVersionedSnapshot replaces the state, as ApplySnapshot does, and
// records its version and epoch.
func (s *Store) ApplyVersionedSnapshot(state json.RawMessage, version uint64, epoch string) error {
	return s.applySnapshot(state, position{version: version, epoch: epoch, ok: true})
}

// ApplyVersionedPatch applies a patch that carries a version and an epoch
// if it is the next step of the state's history: same epoch, version one
// more than the state's. It ignores a patch of a version the state
// already includes (Duplicate) and refuses any other (Gap); neither
// changes anything. A patch whose operations fail changes nothing, returns
// an error wrapping ErrPatch, and makes the Store forget its version: the
// state then no longer follows the history and needs a fresh snapshot.
func (s *Store) ApplyVersionedPatch(ops []protocol.Op, version uint64, epoch string) (Outcome, error) {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	doc, has, at := s.current()
	switch {
	case !has:
		return Ignored, nil
	case !at.ok || at.epoch != epoch || version > at.version+1:
		return Gap, nil
	case version <= at.version:
		return Duplicate, nil
	}
	doc, err := patched(doc, ops)
	if err != nil {
		s.mu.Lock()
		s.at = position{}
		s.mu.Unlock()
		return Ignored, err
	}
	s.publish(doc, position{version: version, epoch: epoch, ok: true})
	return Applied, nil
}
