package zocket

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
)

// Required members. A TypeScript schema requires every member of an input
// object unless it is optional or has a default; encoding/json would
// silently leave an absent member at its zero value. So a method's input
// is checked for absent members before validation: a struct field is
// required unless its type can say "absent" (a pointer or an interface),
// its json tag has omitempty or omitzero, or the input's Defaulter gives it
// a non-zero default. A required member that is absent or null is reported
// as "Invalid input: expected <kind>, received undefined" (or null). This
// applies inside nested structs, list elements and map values too.

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

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// inputShapeOf is the shape of input type I, with the defaults its
// Defaulter sets.
func inputShapeOf[I any]() *shape {
	var in I
	d, ok := any(&in).(Defaulter)
	if ok {
		d.SetDefaults()
	}
	b := shapeBuilder{building: map[reflect.Type]*shape{}}
	if !ok || reflect.TypeFor[I]().Kind() != reflect.Struct {
		return b.of(reflect.TypeFor[I](), reflect.Value{})
	}
	return b.of(reflect.TypeFor[I](), reflect.ValueOf(in))
}

type shapeBuilder struct {
	building map[reflect.Type]*shape // recursive types refer to their own shape
}

// of returns t's shape, nil when nothing in t is required. defaults, when
// valid, is a value of struct type t whose non-zero fields are defaulted.
func (b *shapeBuilder) of(t reflect.Type, defaults reflect.Value) *shape {
	if decodesItself(t) {
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			return nil // base64 bytes
		}
		if e := b.of(t.Elem(), reflect.Value{}); e != nil {
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
	b.addMembers(s, t, defaults, nil)
	if len(s.members) == 0 {
		return nil
	}
	return s
}

// addMembers adds t's JSON members to s, flattening embedded structs as
// encoding/json does.
func (b *shapeBuilder) addMembers(s *shape, t reflect.Type, defaults reflect.Value, index []int) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" && opts == "" {
			continue
		}
		at := append(index[:len(index):len(index)], i)
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			b.addMembers(s, f.Type, defaults, at)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		optional := f.Type.Kind() == reflect.Pointer || f.Type.Kind() == reflect.Interface ||
			strings.Contains(","+opts+",", ",omitempty,") || strings.Contains(","+opts+",", ",omitzero,") ||
			defaults.IsValid() && !defaults.FieldByIndex(at).IsZero()
		s.members = append(s.members, member{name: name, required: !optional, expected: expectedKind(f.Type),
			shape: b.of(f.Type, reflect.Value{})})
	}
}

func decodesItself(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return pt.Implements(jsonUnmarshalerType) || pt.Implements(textUnmarshalerType)
}

func expectedKind(t reflect.Type) string {
	if reflect.PointerTo(t).Implements(textUnmarshalerType) && !reflect.PointerTo(t).Implements(jsonUnmarshalerType) {
		return "string"
	}
	return jsonKind(t)
}

// missing appends an issue for each required member absent from, or null
// in, raw, a JSON value already decoded without error.
func (s *shape) missing(raw []byte, path []any, issues []Issue) []Issue {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return issues
	}
	switch s.kind {
	case reflect.Pointer:
		return s.elem.missing(raw, path, issues)
	case reflect.Slice, reflect.Array:
		if raw[0] != '[' {
			return issues
		}
		i := 0
		eachElement(raw, func(v []byte) {
			issues = s.elem.missing(v, appendPath(path, i), issues)
			i++
		})
		return issues
	case reflect.Map:
		if raw[0] != '{' {
			return issues
		}
		eachMember(raw, func(k string, v []byte) { issues = s.elem.missing(v, appendPath(path, k), issues) })
		return issues
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
	eachMember(raw, func(k string, v []byte) {
		if i := s.member(k); i >= 0 && values[i] == nil {
			values[i] = v
		}
	})
	for i, m := range s.members {
		v := values[i]
		switch {
		case v == nil && m.required:
			issues = append(issues, Issue{Message: "Invalid input: expected " + m.expected + ", received undefined",
				Path: appendPath(path, m.name)})
		case bytes.Equal(v, []byte("null")):
			if m.required {
				issues = append(issues, Issue{Message: "Invalid input: expected " + m.expected + ", received null",
					Path: appendPath(path, m.name)})
			}
		case v != nil && m.shape != nil:
			issues = m.shape.missing(v, appendPath(path, m.name), issues)
		}
	}
	return issues
}

// member returns the index of the member key names, matched as
// encoding/json does: exactly, else ignoring case.
func (s *shape) member(key string) int {
	for i := range s.members {
		if s.members[i].name == key {
			return i
		}
	}
	for i := range s.members {
		if strings.EqualFold(s.members[i].name, key) {
			return i
		}
	}
	return -1
}

func appendPath(path []any, elem any) []any {
	return append(path[:len(path):len(path)], elem)
}

// eachMember calls fn for each member of the JSON object obj (valid JSON).
func eachMember(obj []byte, fn func(key string, value []byte)) {
	i := skipSpace(obj, 1)
	for i < len(obj) && obj[i] == '"' {
		end := skipString(obj, i)
		key := string(obj[i+1 : end-1])
		if strings.IndexByte(key, '\\') >= 0 {
			_ = json.Unmarshal(obj[i:end], &key)
		}
		i = skipSpace(obj, end)
		i = skipSpace(obj, i+1) // ':'
		vEnd := skipValue(obj, i)
		fn(key, obj[i:vEnd])
		i = skipSpace(obj, vEnd)
		if i < len(obj) && obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
	}
}

// eachElement calls fn for each element of the JSON array arr (valid JSON).
func eachElement(arr []byte, fn func(value []byte)) {
	i := skipSpace(arr, 1)
	for i < len(arr) && arr[i] != ']' {
		end := skipValue(arr, i)
		fn(arr[i:end])
		i = skipSpace(arr, end)
		if i < len(arr) && arr[i] == ',' {
			i = skipSpace(arr, i+1)
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"'.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// skipValue returns the index after the JSON value starting at b[i].
func skipValue(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			i = skipString(b, i)
			if depth == 0 {
				return i
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',':
			if depth == 0 {
				return i
			}
		case ' ', '\t', '\n', '\r':
			if depth == 0 {
				return i
			}
		}
		i++
	}
	return i
}
