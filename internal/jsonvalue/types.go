// Package jsonvalue encodes, deep-copies and diffs Go values as the JSON that
// zocket puts on the wire. It follows encoding/json's field rules (json tags,
// omitempty, omitzero, embedded structs, Marshaler and TextMarshaler leaves)
// with one difference the protocol asks for: nil slices and maps encode as []
// and {} rather than null.
//
// The diff walks two Go values of the same type and emits RFC 6902 operations
// that every client applies alike: array adds only at the end, removes from the
// end in descending order, no root operations, RFC 6901 escaped paths. It
// never encodes what did not change, so a call that touches one field of a
// large state allocates only for that field; the walk itself still visits
// every reachable value (cost grows with the state, not the change: see the
// zocket package documentation for measured figures).
package jsonvalue

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/zocket-go/zocket/protocol"
)

type kind uint8

const (
	kBool kind = iota
	kInt
	kUint
	kFloat32
	kFloat64
	kString
	kNumber    // json.Number
	kBytes     // []byte, base64
	kMarshaler // json.Marshaler or encoding.TextMarshaler: opaque leaf
	kStruct
	kSlice
	kArray
	kMap
	kPtr
	kInterface
)

// typeInfo is everything needed to encode, clone and diff one Go type.
type typeInfo struct {
	t    reflect.Type
	kind kind
	// flat is true when a plain assignment is a deep copy: the type holds no
	// pointers, slices, maps, interfaces or channels (strings are immutable).
	flat bool
	// text is set for kMarshaler leaves that marshal through TextMarshaler.
	text bool
	// ptrMarshal is set when only *T implements the marshaler.
	ptrMarshal bool

	fields []field    // kStruct: JSON-visible fields in encoding order
	elem   *typeInfo  // kSlice, kArray, kPtr, kMap (value type)
	key    mapKeyKind // kMap
}

type mapKeyKind uint8

const (
	keyString mapKeyKind = iota
	keyInt
	keyUint
	keyText
)

type field struct {
	name      string
	prefix    []byte // `"name":` encoded once
	index     []int
	omitEmpty bool
	omitZero  bool
	info      *typeInfo
}

var (
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	numberType        = reflect.TypeFor[json.Number]()
)

// cache holds one *typeInfo per reflect.Type. Building is serialised by mu so
// recursive types can refer to their own (still incomplete) info.
type cache struct {
	done     sync.Map // reflect.Type → *typeInfo
	mu       sync.Mutex
	building map[reflect.Type]*typeInfo
}

var types = &cache{} // immutable derived data, safe to share like encoding/json's cache

func infoOf(t reflect.Type) (*typeInfo, error) {
	if ti, ok := types.done.Load(t); ok {
		return ti.(*typeInfo), nil
	}
	types.mu.Lock()
	defer types.mu.Unlock()
	types.building = map[reflect.Type]*typeInfo{}
	ti, err := build(t)
	if err != nil {
		types.building = nil
		return nil, err
	}
	for bt, bi := range types.building {
		types.done.Store(bt, bi)
	}
	types.building = nil
	return ti, nil
}

func build(t reflect.Type) (*typeInfo, error) {
	if ti, ok := types.done.Load(t); ok {
		return ti.(*typeInfo), nil
	}
	if ti, ok := types.building[t]; ok {
		return ti, nil
	}
	ti := &typeInfo{t: t, flat: isFlat(t, map[reflect.Type]bool{})}
	types.building[t] = ti
	var err error
	switch {
	case t == numberType:
		ti.kind = kNumber
	case t.Implements(marshalerType):
		ti.kind = kMarshaler
	case reflect.PointerTo(t).Implements(marshalerType) && t.Kind() != reflect.Pointer:
		ti.kind, ti.ptrMarshal = kMarshaler, true
	case t.Implements(textMarshalerType):
		ti.kind, ti.text = kMarshaler, true
	case reflect.PointerTo(t).Implements(textMarshalerType) && t.Kind() != reflect.Pointer:
		ti.kind, ti.text, ti.ptrMarshal = kMarshaler, true, true
	default:
		err = buildStructural(ti)
	}
	return ti, err
}

func buildStructural(ti *typeInfo) error {
	t := ti.t
	var err error
	switch t.Kind() {
	case reflect.Bool:
		ti.kind = kBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		ti.kind = kInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		ti.kind = kUint
	case reflect.Float32:
		ti.kind = kFloat32
	case reflect.Float64:
		ti.kind = kFloat64
	case reflect.String:
		ti.kind = kString
	case reflect.Interface:
		ti.kind = kInterface
	case reflect.Pointer:
		ti.kind = kPtr
		ti.elem, err = build(t.Elem())
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && !reflect.PointerTo(t.Elem()).Implements(marshalerType) &&
			!reflect.PointerTo(t.Elem()).Implements(textMarshalerType) {
			ti.kind = kBytes
			return nil
		}
		ti.kind = kSlice
		ti.elem, err = build(t.Elem())
	case reflect.Array:
		ti.kind = kArray
		ti.elem, err = build(t.Elem())
	case reflect.Map:
		ti.kind = kMap
		switch k := t.Key(); {
		case k.Kind() == reflect.String:
			ti.key = keyString
		case k.Implements(textMarshalerType):
			ti.key = keyText
		case k.Kind() >= reflect.Int && k.Kind() <= reflect.Int64:
			ti.key = keyInt
		case k.Kind() >= reflect.Uint && k.Kind() <= reflect.Uintptr:
			ti.key = keyUint
		default:
			return fmt.Errorf("map key type %s cannot be a JSON object key", k)
		}
		ti.elem, err = build(t.Elem())
	case reflect.Struct:
		ti.kind = kStruct
		ti.fields, err = structFields(t)
	default:
		return fmt.Errorf("type %s (%s) cannot be encoded as JSON", t, t.Kind())
	}
	return err
}

func isFlat(t reflect.Type, seen map[reflect.Type]bool) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128, reflect.String:
		return true
	case reflect.Array:
		return isFlat(t.Elem(), seen)
	case reflect.Struct:
		if seen[t] {
			return false
		}
		seen[t] = true
		for i := range t.NumField() {
			if !isFlat(t.Field(i).Type, seen) {
				return false
			}
		}
		return true
	}
	return false
}

// structFields applies encoding/json's visibility and dominance rules.
func structFields(t reflect.Type) ([]field, error) {
	type candidate struct {
		field
		depth  int
		tagged bool
	}
	var all []candidate
	var walk func(t reflect.Type, index []int, depth int) error
	walk = func(t reflect.Type, index []int, depth int) error {
		for i := range t.NumField() {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if sf.Anonymous {
				ft := sf.Type
				if ft.Kind() == reflect.Pointer {
					if name == "" {
						return fmt.Errorf("field %s.%s: embedded pointer structs are not supported in state types; embed the struct value", t, sf.Name)
					}
				} else if !sf.IsExported() && ft.Kind() != reflect.Struct {
					continue
				} else if name == "" && ft.Kind() == reflect.Struct {
					if err := walk(ft, append(append([]int(nil), index...), i), depth+1); err != nil {
						return err
					}
					continue
				}
			} else if !sf.IsExported() {
				continue
			}
			if strings.Contains(","+opts+",", ",string,") {
				return fmt.Errorf("field %s.%s: the json \",string\" option is not supported", t, sf.Name)
			}
			tagged := name != ""
			if name == "" {
				name = sf.Name
			}
			fi, err := build(sf.Type)
			if err != nil {
				return fmt.Errorf("field %s.%s: %w", t, sf.Name, err)
			}
			f := field{name: name, index: append(append([]int(nil), index...), i), info: fi,
				omitEmpty: strings.Contains(","+opts+",", ",omitempty,"),
				omitZero:  strings.Contains(","+opts+",", ",omitzero,")}
			all = append(all, candidate{field: f, depth: depth, tagged: tagged})
		}
		return nil
	}
	if err := walk(t, nil, 0); err != nil {
		return nil, err
	}
	// Dominance: for each name keep the shallowest field; at equal depth a
	// single tagged field wins; otherwise the name is dropped.
	var out []field
	for i, c := range all {
		winner, conflict := true, false
		for j, o := range all {
			if i == j || o.name != c.name {
				continue
			}
			switch {
			case o.depth < c.depth:
				winner = false
			case o.depth == c.depth:
				if o.tagged && !c.tagged {
					winner = false
				} else if o.tagged == c.tagged {
					conflict = true
				}
			}
		}
		if winner && !conflict {
			c.prefix = append(protocol.AppendString(nil, c.name), ':')
			out = append(out, c.field)
		}
	}
	return out, nil
}
