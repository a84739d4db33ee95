// Package statestore holds one actor instance's state on the client side:
// the latest snapshot with every later patch applied, and the listeners to
// call after each change.
//
// Patches follow docs/protocol.md: RFC 6902 add, remove and replace
// (array add inserts; "-" appends), RFC 6901 paths, add/replace without a
// value removes an object member (an array element becomes null), patches
// before the first snapshot are ignored. A message whose operations cannot
// all be applied changes nothing and is reported with ErrPatch, so that the
// owner can ask the server for a fresh snapshot: the state never silently
// diverges.
//
// A Go server also sends each snapshot and patch with a version and an
// epoch; ApplyVersionedSnapshot and ApplyVersionedPatch keep them, so that
// the owner can resume after a reconnect (Version) and notice patches it
// missed (a Gap outcome) instead of applying them out of order.
//
// Documents are immutable once published: applying a patch copies only the
// containers on each operation's path, so a one-operation patch on a
// 1,000-item list costs microseconds and never re-parses or re-encodes the
// document, and a value a listener received never changes under it.
// Numbers are json.Number, so integers of any size pass through exactly.
package statestore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"unsafe"

	"github.com/zocket-go/zocket/protocol"
)

// Store is the client-side state of one instance. It is safe for
// concurrent use; listeners run on the goroutine that applied the update,
// one update at a time, and must not call back into the Store's Apply
// methods.
type Store struct {
	applyMu   sync.Mutex // one update at a time
	mu        sync.Mutex
	doc       any
	has       bool
	at        position // the state's place in the instance's history
	gen       uint64   // counts updates
	listeners []*listener
	typed     map[reflect.Type]typedValue // decoded once per update
}

type listener struct {
	fn func(doc any)
}

type typedValue struct {
	gen   uint64
	value any
	err   error
}

// New returns an empty Store: no state until the first snapshot.
func New() *Store { return &Store{} }

// ApplySnapshot replaces the state and notifies every listener. The
// snapshot carries no version: the Store forgets the one it had (see
// ApplyVersionedSnapshot).
func (s *Store) ApplySnapshot(state json.RawMessage) error {
	return s.applySnapshot(state, position{})
}

func (s *Store) applySnapshot(state json.RawMessage, at position) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	doc, err := decode(state)
	if err != nil {
		return fmt.Errorf("statestore: snapshot: %w", err)
	}
	s.publish(doc, at)
	return nil
}

// ApplyPatch applies the operations of one state:patch message and, if
// they all apply, notifies every listener once. A patch before any
// snapshot is ignored (applied == false, nil error). If an operation fails
// nothing changes and the error wraps ErrPatch. The patch carries no
// version: the Store forgets the one it had (see ApplyVersionedPatch).
func (s *Store) ApplyPatch(ops []protocol.Op) (applied bool, err error) {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	doc, has, _ := s.current()
	if !has {
		return false, nil
	}
	if doc, err = patched(doc, ops); err != nil {
		return false, err
	}
	s.publish(doc, position{})
	return true, nil
}

// current returns the state and its place in the history.
func (s *Store) current() (doc any, has bool, at position) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.doc, s.has, s.at
}

// patched returns doc with the operations of one message applied, or an
// error wrapping ErrPatch; doc itself never changes.
func patched(doc any, ops []protocol.Op) (any, error) {
	var err error
	a := applier{owned: map[unsafe.Pointer]bool{}}
	for _, op := range ops {
		var value any
		hasValue := op.Value != nil
		if hasValue {
			if value, err = decode(op.Value); err != nil {
				return nil, fmt.Errorf("%w: %s %s: value: %v", ErrPatch, op.Op, op.Path, err)
			}
		}
		switch op.Op {
		case protocol.OpAdd, protocol.OpReplace, protocol.OpRemove:
		default:
			continue // move, copy, test: never emitted by servers; ignored as TS does
		}
		if doc, err = a.apply(doc, op, value, hasValue); err != nil {
			return nil, err
		}
	}
	return doc, nil
}

// publish makes doc the state, at its place in the history, and calls the
// listeners with it.
func (s *Store) publish(doc any, at position) {
	s.mu.Lock()
	s.doc, s.has, s.at = doc, true, at
	s.gen++
	ls := s.listeners
	s.mu.Unlock()
	for _, l := range ls {
		l.fn(doc)
	}
}

// State returns the current document (do not modify it) and whether there
// is one yet.
func (s *Store) State() (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.doc, s.has
}

// JSON returns the current document encoded as JSON, or nil before the
// first snapshot.
func (s *Store) JSON() json.RawMessage {
	doc, ok := s.State()
	if !ok {
		return nil
	}
	b, _ := json.Marshal(doc)
	return b
}

// Subscribe adds a listener, called after every update with the new
// document; if there is a state already it is called at once with it. The
// returned function removes the listener; calling it again does nothing.
func (s *Store) Subscribe(fn func(doc any)) (unsubscribe func()) {
	l := &listener{fn: fn}
	s.mu.Lock()
	s.listeners = append(append([]*listener(nil), s.listeners...), l) // copy-on-write
	doc, has := s.doc, s.has
	s.mu.Unlock()
	if has {
		fn(doc)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			out := make([]*listener, 0, len(s.listeners))
			for _, o := range s.listeners {
				if o != l {
					out = append(out, o)
				}
			}
			s.listeners = out
		})
	}
}

// Listeners returns the number of listeners.
func (s *Store) Listeners() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.listeners)
}

// Typed returns the current state decoded into S. The decode happens once
// per update and type, however many callers ask; each caller gets its own
// copy of the decoded value only as far as Go's assignment copies it, so
// treat slices and maps inside as read-only.
func Typed[S any](s *Store) (S, bool, error) {
	var zero S
	t := reflect.TypeFor[S]()
	s.mu.Lock()
	doc, has, gen := s.doc, s.has, s.gen
	if !has {
		s.mu.Unlock()
		return zero, false, nil
	}
	if tv, ok := s.typed[t]; ok && tv.gen == gen {
		s.mu.Unlock()
		v, _ := tv.value.(S)
		return v, true, tv.err
	}
	s.mu.Unlock()
	var v S
	b, err := json.Marshal(doc)
	if err == nil {
		err = json.Unmarshal(b, &v)
	}
	s.mu.Lock()
	if s.gen == gen {
		if s.typed == nil {
			s.typed = map[reflect.Type]typedValue{}
		}
		s.typed[t] = typedValue{gen: gen, value: v, err: err}
	}
	s.mu.Unlock()
	return v, true, err
}

// SubscribeTyped is Subscribe with the state decoded into S (once per
// update, shared by all typed listeners of S). A state that does not
// decode into S is skipped.
func SubscribeTyped[S any](s *Store, fn func(S)) (unsubscribe func()) {
	return s.Subscribe(func(any) {
		if v, ok, err := Typed[S](s); ok && err == nil {
			fn(v)
		}
	})
}

func decode(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}
