package zocket

import (
	"fmt"
	"reflect"

	"github.com/go-playground/validator/v10"

	"github.com/zocket-go/zocket/internal/jsonvalue"
)

// Registration checks: everything that can be found wrong with an actor
// definition is reported by App.Register, so that no call fails later for a
// reason that was visible in the types.

// checkTags reports a `validate` tag the validator cannot run (an unknown
// rule such as "requried", a rule on a field of the wrong kind) on any
// struct reachable from t. The validator only finds these while validating,
// by panicking, so each struct type is validated once as a zero value here.
func checkTags(v *validator.Validate, t reflect.Type) error {
	return walkStructs(t, func(st reflect.Type) (bool, error) { return true, tryValidate(v, st) })
}

func tryValidate(v *validator.Validate, st reflect.Type) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("type %s: invalid validate tag: %v", st, r)
		}
	}()
	_ = v.Struct(reflect.New(st).Interface()) // a zero value may well be invalid: only panics matter
	return nil
}

// walkStructs calls fn for every struct type reachable from t through
// fields, elements and pointers, each once, and into its fields when fn
// says so, until fn returns an error.
func walkStructs(t reflect.Type, fn func(st reflect.Type) (descend bool, err error)) error {
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type) error
	walk = func(t reflect.Type) error {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array ||
			t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return nil
		}
		seen[t] = true
		descend, err := fn(t)
		if err != nil || !descend {
			return err
		}
		for i := range t.NumField() {
			if err := walk(t.Field(i).Type); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(t)
}

// checkStateCopy rejects a state type that the draft copy cannot isolate:
// the draft deep-copies what exported fields reach, but an unexported field
// can only be copied as is, so a map, slice or pointer in one would be
// shared between the draft and the committed state, and a failed call's
// change to it would persist. Structs with their own JSON encoding (such as
// time.Time) are values, copied as they are, in exported and unexported
// fields alike.
func checkStateCopy(t reflect.Type) error {
	return walkStructs(t, func(st reflect.Type) (bool, error) {
		if encodesItself(st) {
			return false, nil
		}
		for i := range st.NumField() {
			f := st.Field(i)
			value := jsonvalue.Flat(f.Type) || f.Type.Kind() == reflect.Struct && encodesItself(f.Type)
			if !f.IsExported() && !value {
				return false, fmt.Errorf("field %s.%s is unexported and holds references (%s): a failed call "+
					"could not undo its changes; export it (tagged `json:\"-\"` to keep it off the wire) or keep "+
					"such data outside the state", st, f.Name, f.Type)
			}
		}
		return true, nil
	})
}

// isNil reports whether v is nil or a nil pointer in an interface.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// checkDefinition reports what is wrong with an actor definition: nil
// parts, duplicate method or event names, invalid `validate` tags on inputs
// and event payloads, a state type whose copies would share memory.
func checkDefinition[S, C any](a *Actor[S, C]) error {
	if err := checkStateCopy(reflect.TypeFor[S]()); err != nil {
		return fmt.Errorf("state type %s: %w", reflect.TypeFor[S](), err)
	}
	v := newValidator()
	err := checkDecls("method", "Methods", a.methods, func(m AnyMethod[S, C]) error { return m.check(v) })
	if err != nil {
		return err
	}
	return checkDecls("event", "Events", a.events, func(e AnyEvent) error {
		if err := checkTags(v, e.payloadType()); err != nil {
			return fmt.Errorf("payload: %w", err)
		}
		return nil
	})
}

// checkDecls checks a list of named declarations: none nil, no name twice,
// and check passes for each.
func checkDecls[T interface{ Name() string }](kind, list string, decls []T, check func(T) error) error {
	seen := map[string]bool{}
	for i, d := range decls {
		if isNil(d) {
			return fmt.Errorf("%s %d of %s is nil", kind, i, list)
		}
		if seen[d.Name()] {
			return fmt.Errorf("%s %q declared twice", kind, d.Name())
		}
		seen[d.Name()] = true
		if err := check(d); err != nil {
			return fmt.Errorf("%s %q: %w", kind, d.Name(), err)
		}
	}
	return nil
}
