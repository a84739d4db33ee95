package statestore

import (
	"errors"
	"fmt"
	"strconv"
	"unsafe"

	"github.com/zocket-go/zocket/protocol"
)

// ErrPatch is wrapped by the error of a patch that cannot be applied.
var ErrPatch = errors.New("statestore: patch cannot be applied")

// applier applies one message's operations to a document without touching
// the previous version: every container on an operation's path is copied
// the first time the message changes it (path copying), later operations
// of the same message change those copies in place. Cost per operation is
// the depth times the size of the containers on the path, never the
// document.
type applier struct {
	owned map[unsafe.Pointer]bool // containers this message already copied
}

func (a *applier) own(p unsafe.Pointer) { a.owned[p] = true }

func mapID(m map[string]any) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&m)) }

func sliceID(s []any) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(s)) }

// writable returns a container the message may change: c itself when the
// message copied it already, else a copy.
func (a *applier) writable(c any) any {
	switch n := c.(type) {
	case map[string]any:
		if a.owned[mapID(n)] {
			return n
		}
		m := make(map[string]any, len(n)+1)
		for k, v := range n {
			m[k] = v
		}
		a.own(mapID(m))
		return m
	case []any:
		if len(n) > 0 && a.owned[sliceID(n)] {
			return n
		}
		s := make([]any, len(n), len(n)+len(n)/4+1)
		copy(s, n)
		a.own(sliceID(s))
		return s
	}
	return c
}

// apply returns doc with op applied, or an error and no change.
func (a *applier) apply(doc any, op protocol.Op, value any, hasValue bool) (any, error) {
	segs := protocol.SplitPointer(op.Path)
	if len(segs) == 0 {
		switch op.Op {
		case protocol.OpAdd, protocol.OpReplace:
			return value, nil
		case protocol.OpRemove:
			return nil, nil
		}
		return nil, fmt.Errorf("%w: unknown op %q", ErrPatch, op.Op)
	}
	return a.applyAt(doc, segs, op, value, hasValue)
}

func (a *applier) applyAt(node any, segs []string, op protocol.Op, value any, hasValue bool) (any, error) {
	key := segs[0]
	last := len(segs) == 1
	switch n := a.writable(node).(type) {
	case map[string]any:
		if !last {
			child, ok := n[key]
			if !ok {
				return nil, fmt.Errorf("%w: %s %s: no member %q", ErrPatch, op.Op, op.Path, key)
			}
			c, err := a.applyAt(child, segs[1:], op, value, hasValue)
			if err != nil {
				return nil, err
			}
			n[key] = c
			return n, nil
		}
		_, exists := n[key]
		switch {
		case op.Op == protocol.OpRemove || !hasValue:
			// add/replace without value: the member becomes undefined,
			// that is, absent, as in a later snapshot.
			if !exists && op.Op == protocol.OpRemove {
				return nil, fmt.Errorf("%w: remove %s: no member %q", ErrPatch, op.Path, key)
			}
			delete(n, key)
		case op.Op == protocol.OpReplace && !exists:
			return nil, fmt.Errorf("%w: replace %s: no member %q", ErrPatch, op.Path, key)
		default:
			n[key] = value
		}
		return n, nil
	case []any:
		i, err := index(key, len(n), op.Op == protocol.OpAdd && last)
		if err != nil {
			return nil, fmt.Errorf("%w: %s %s: %v", ErrPatch, op.Op, op.Path, err)
		}
		if !last {
			c, err := a.applyAt(n[i], segs[1:], op, value, hasValue)
			if err != nil {
				return nil, err
			}
			n[i] = c
			return n, nil
		}
		if !hasValue && op.Op != protocol.OpRemove {
			value = nil // an undefined array element reads as null
		}
		switch op.Op {
		case protocol.OpAdd:
			if i == len(n) {
				n = append(n, value)
			} else {
				n = append(n, nil)
				copy(n[i+1:], n[i:])
				n[i] = value
			}
			a.own(sliceID(n))
			return n, nil
		case protocol.OpReplace:
			n[i] = value
			return n, nil
		case protocol.OpRemove:
			copy(n[i:], n[i+1:])
			n[len(n)-1] = nil
			return n[:len(n)-1], nil
		}
	}
	return nil, fmt.Errorf("%w: %s %s: %q is not inside an object or array", ErrPatch, op.Op, op.Path, key)
}

// index parses an array index; "-" (and len, for add) is the end.
func index(seg string, n int, add bool) (int, error) {
	if seg == "-" && add {
		return n, nil
	}
	i, err := strconv.Atoi(seg)
	if err != nil || i < 0 || seg != strconv.Itoa(i) {
		return 0, fmt.Errorf("bad array index %q", seg)
	}
	if i > n || i == n && !add {
		return 0, fmt.Errorf("index %d out of range (length %d)", i, n)
	}
	return i, nil
}
