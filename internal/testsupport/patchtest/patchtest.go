// Package patchtest applies JSON patches to decoded JSON documents the two
// ways a server's patches must be correct under: the TS client's rules
// (add and replace both set; "" and "/" are the root) and RFC 6902.
// It exists for tests.
package patchtest

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/zocket-go/zocket/protocol"
)

// Mode selects the patch semantics.
type Mode int

const (
	// TS applies add and replace as "set" (array index assigns), as the
	// TypeScript client does.
	TS Mode = iota
	// RFC applies RFC 6902: array add inserts, replace needs an existing target.
	RFC
)

// Decode parses JSON into a generic document (numbers as float64).
func Decode(b []byte) (any, error) {
	var v any
	err := json.Unmarshal(b, &v)
	return v, err
}

// Apply applies ops to a deep copy of doc and returns the result.
func Apply(doc any, ops []protocol.Op, mode Mode) (any, error) {
	doc = clone(doc)
	for _, op := range ops {
		segs := protocol.SplitPointer(op.Path)
		if len(segs) == 0 {
			return nil, fmt.Errorf("root operation %s %q", op.Op, op.Path)
		}
		var val any
		if op.Op != protocol.OpRemove {
			if op.Value == nil {
				return nil, fmt.Errorf("%s %q without value", op.Op, op.Path)
			}
			if err := json.Unmarshal(op.Value, &val); err != nil {
				return nil, err
			}
		}
		var err error
		doc, err = apply(doc, segs, op.Op, val, mode)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", op.Op, op.Path, err)
		}
	}
	return doc, nil
}

func apply(node any, segs []string, op string, val any, mode Mode) (any, error) {
	key := segs[0]
	last := len(segs) == 1
	switch n := node.(type) {
	case map[string]any:
		if last {
			switch op {
			case protocol.OpRemove:
				if _, ok := n[key]; !ok && mode == RFC {
					return nil, fmt.Errorf("remove of missing member %q", key)
				}
				delete(n, key)
			case protocol.OpReplace:
				if _, ok := n[key]; !ok && mode == RFC {
					return nil, fmt.Errorf("replace of missing member %q", key)
				}
				n[key] = val
			default:
				n[key] = val
			}
			return n, nil
		}
		child, ok := n[key]
		if !ok {
			if mode == RFC {
				return nil, fmt.Errorf("missing member %q", key)
			}
			child = map[string]any{}
		}
		c, err := apply(child, segs[1:], op, val, mode)
		if err != nil {
			return nil, err
		}
		n[key] = c
		return n, nil
	case []any:
		i, err := strconv.Atoi(key)
		if key == "-" {
			i, err = len(n), nil
		}
		if err != nil || i < 0 {
			return nil, fmt.Errorf("bad array index %q", key)
		}
		if last {
			switch {
			case op == protocol.OpRemove:
				if i >= len(n) {
					return nil, fmt.Errorf("remove index %d out of range %d", i, len(n))
				}
				return append(n[:i:i], n[i+1:]...), nil
			case op == protocol.OpAdd && mode == RFC:
				if i > len(n) {
					return nil, fmt.Errorf("add index %d past end %d", i, len(n))
				}
				out := append(n[:i:i], val)
				return append(out, n[i:]...), nil
			default:
				if i >= len(n) {
					if mode == RFC {
						return nil, fmt.Errorf("replace index %d out of range", i)
					}
					for len(n) <= i {
						n = append(n, nil)
					}
				}
				n[i] = val
				return n, nil
			}
		}
		if i >= len(n) {
			return nil, fmt.Errorf("index %d out of range", i)
		}
		c, err := apply(n[i], segs[1:], op, val, mode)
		if err != nil {
			return nil, err
		}
		n[i] = c
		return n, nil
	}
	return nil, fmt.Errorf("cannot descend into %T at %q", node, key)
}

func clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = clone(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = clone(e)
		}
		return s
	}
	return v
}
