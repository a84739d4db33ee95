package zocket

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"

	"github.com/zocket-go/zocket/internal/jsonscan"
)

// Required members. A TypeScript schema requires every member of an input
// object unless it is optional or has a default; encoding/json would
// silently leave an absent member at its zero value. So a method's input
// is checked for absent members before validation: a struct field is
// required unless its type can say "absent" (a pointer or an interface),
// its json tag has omitempty or omitzero, or the input's Defaulter gives it
// a non-zero default (in a nested struct too). A required member that is
// absent or null is reported as "Invalid input: expected <kind>, received
// undefined" (or null). This applies inside nested structs, list elements
// and map values too. The members of an embedded struct pointer are
// flattened, as encoding/json does, and optional, since the pointer may
// stay nil.

// shape is what an input type requires of its JSON, where it requires
// anything.
type shape struct {
	members []member // struct
	elem    *shape   // list elements, map values, pointer targets
	kind    reflect.Kind
}

type member struct {
	name     string
	required bool
	expected string // the JSON kind, for the message
	shape    *shape // nil: nothing to check inside
}

// inputShapeOf is the shape of input type I, with the defaults its
// Defaulter sets.
func inputShapeOf[I any]() *shape {
	in := reflect.New(reflect.TypeFor[I]())
	if d, ok := in.Interface().(Defaulter); ok {
		d.SetDefaults()
	}
	b := shapeBuilder{building: map[reflect.Type]*shape{}}
	return b.of(reflect.TypeFor[I](), in.Elem())
}

type shapeBuilder struct {
	building map[reflect.Type]*shape // recursive types refer to their own shape
}

// of returns t's shape, nil when nothing in t is required. defaults is a
// value of type t whose non-zero fields are defaulted, or the zero Value.
func (b *shapeBuilder) of(t reflect.Type, defaults reflect.Value) *shape {
	if decodesItself(t) {
		return nil
	}
	if defaults.IsValid() && defaults.IsZero() {
		defaults = reflect.Value{} // nothing defaulted: the cached shape will do
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			return nil // base64 bytes
		}
		var elemDefaults reflect.Value // encoding/json decodes into a pointer's target, not into old elements
		if t.Kind() == reflect.Pointer && defaults.IsValid() {
			elemDefaults = defaults.Elem()
		}
		if e := b.of(t.Elem(), elemDefaults); e != nil {
			return &shape{kind: t.Kind(), elem: e}
		}
		return nil
	case reflect.Struct:
	default:
		return nil
	}
	if s, ok := b.building[t]; ok && !defaults.IsValid() {
		return s
	}
	s := &shape{kind: reflect.Struct}
	if !defaults.IsValid() {
		b.building[t] = s
	}
	b.addMembers(s, t, defaults, nil, false)
	if len(s.members) == 0 {
		return nil
	}
	return s
}

// addMembers adds t's JSON members to s, flattening embedded structs and
// struct pointers as encoding/json does; all of them are optional when t is
// reached through an embedded pointer.
func (b *shapeBuilder) addMembers(s *shape, t reflect.Type, defaults reflect.Value, index []int, optional bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		at := append(index[:len(index):len(index)], i)
		if f.Anonymous && name == "" {
			switch {
			case f.Type.Kind() == reflect.Struct:
				b.addMembers(s, f.Type, defaults, at, optional)
				continue
			case f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct:
				b.addMembers(s, f.Type.Elem(), defaults, at, true)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		def := fieldDefault(defaults, at)
		required := !optional && f.Type.Kind() != reflect.Pointer && f.Type.Kind() != reflect.Interface &&
			!strings.Contains(","+opts+",", ",omitempty,") && !strings.Contains(","+opts+",", ",omitzero,") &&
			!def.IsValid()
		s.members = append(s.members, member{name: name, required: required, expected: expectedKind(f.Type),
			shape: b.of(f.Type, def)})
	}
}

// fieldDefault returns the field at index of defaults when it is set (not
// zero), else the zero Value.
func fieldDefault(defaults reflect.Value, index []int) reflect.Value {
	if !defaults.IsValid() {
		return reflect.Value{}
	}
	v, err := defaults.FieldByIndexErr(index) // fails through a nil embedded pointer
	if err != nil || v.IsZero() {
		return reflect.Value{}
	}
	return v
}

// expectedKind names the JSON kind of t for an issue's message: "string"
// for base64 bytes and for types with a text form (such as time.Time).
func expectedKind(t reflect.Type) string {
	pt := reflect.PointerTo(t)
	bytes := t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 && !pt.Implements(jsonUnmarshalerType)
	if bytes || t.Implements(textMarshalerType) || pt.Implements(textMarshalerType) || pt.Implements(textUnmarshalerType) {
		return "string"
	}
	return jsonKind(t)
}

// missing appends an issue for each required member absent from, or null
// in, raw, a JSON value already decoded without error; at is raw's place.
func (s *shape) missing(raw []byte, at *place, issues []Issue) []Issue {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return issues
	}
	switch s.kind {
	case reflect.Pointer:
		return s.elem.missing(raw, at, issues)
	case reflect.Slice, reflect.Array:
		if raw[0] != '[' {
			return issues
		}
		c := jsonscan.NewCursor(raw)
		for i := 0; ; i++ {
			_, v, ok := c.Next(false)
			if !ok {
				return issues
			}
			issues = s.elem.missing(v, &place{up: at, index: i}, issues)
		}
	case reflect.Map:
		if raw[0] != '{' {
			return issues
		}
		for c := jsonscan.NewCursor(raw); ; {
			k, v, ok := c.Next(true)
			if !ok {
				return issues
			}
			issues = s.elem.missing(v, &place{up: at, key: unquoteKey(k), named: true}, issues)
		}
	}
	if raw[0] != '{' {
		return issues
	}
	var small [32][]byte
	values := small[:0]
	if len(s.members) > len(small) {
		values = make([][]byte, 0, len(s.members))
	}
	values = values[:len(s.members)]
	for c := jsonscan.NewCursor(raw); ; {
		k, v, ok := c.Next(true)
		if !ok {
			break
		}
		if i := s.member(k); i >= 0 {
			values[i] = v // the last of duplicate keys wins, as in encoding/json
		}
	}
	for i := range s.members {
		m, v := &s.members[i], values[i]
		switch {
		case v == nil && m.required:
			issues = m.issue(at, "undefined", issues)
		case bytes.Equal(v, []byte("null")):
			if m.required {
				issues = m.issue(at, "null", issues)
			}
		case v != nil && m.shape != nil:
			issues = m.shape.missing(v, &place{up: at, key: m.name, named: true}, issues)
		}
	}
	return issues
}

// issue appends the issue of member m of the object at, received as got.
func (m *member) issue(at *place, got string, issues []Issue) []Issue {
	here := place{up: at, key: m.name, named: true}
	return append(issues, Issue{Message: "Invalid input: expected " + m.expected + ", received " + got,
		Path: here.path()})
}

// member returns the index of the member key (raw, still quoted-escaped)
// names, matched as encoding/json does: exactly, else ignoring case.
func (s *shape) member(key []byte) int {
	for i := range s.members {
		if s.members[i].name == string(key) {
			return i
		}
	}
	name := unquoteKey(key)
	for i := range s.members {
		if strings.EqualFold(s.members[i].name, name) {
			return i
		}
	}
	return -1
}

// place is a position in the input, built on the stack while walking and
// turned into an issue path only when an issue is found.
type place struct {
	up    *place
	key   string
	index int
	named bool // key, else index
}

func (p *place) path() []any {
	n := 0
	for q := p; q != nil; q = q.up {
		n++
	}
	path := make([]any, n)
	for q := p; q != nil; q = q.up {
		n--
		if q.named {
			path[n] = q.key
		} else {
			path[n] = q.index
		}
	}
	return path
}

// unquoteKey returns the text of a member key as it appears between its
// quotes.
func unquoteKey(k []byte) string {
	if bytes.IndexByte(k, '\\') < 0 {
		return string(k)
	}
	var s string
	_ = json.Unmarshal(append(append([]byte{'"'}, k...), '"'), &s)
	return s
}
