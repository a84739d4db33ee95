package jsonvalue

import (
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"

	"github.com/zocket-go/zocket/protocol"
)

// Type is the compiled JSON view of one Go type.
type Type struct{ info *typeInfo }

// TypeOf compiles t, or reports why a value of t cannot be carried as JSON
// (channels, functions, complex numbers, unsupported map keys, embedded
// pointer structs, the ",string" tag option).
func TypeOf(t reflect.Type) (*Type, error) {
	ti, err := infoOf(t)
	if err != nil {
		return nil, err
	}
	return &Type{info: ti}, nil
}

// Append appends the JSON encoding of v, which must be of the compiled type.
func (t *Type) Append(dst []byte, v reflect.Value) ([]byte, error) {
	return appendValue(dst, t.info, v)
}

// Marshal encodes any value the way zocket puts it on the wire: like
// encoding/json, except that nil slices and maps become [] and {} and NaN or
// infinite floats become null.
func Marshal(v any) ([]byte, error) {
	return AppendAny(nil, v)
}

// AppendAny appends the encoding of v (see Marshal).
func AppendAny(dst []byte, v any) ([]byte, error) {
	if v == nil {
		return append(dst, "null"...), nil
	}
	rv := reflect.ValueOf(v)
	ti, err := infoOf(rv.Type())
	if err != nil {
		return dst, err
	}
	return appendValue(dst, ti, rv)
}

func appendValue(dst []byte, ti *typeInfo, v reflect.Value) ([]byte, error) {
	switch ti.kind {
	case kBool:
		return strconv.AppendBool(dst, v.Bool()), nil
	case kInt:
		return strconv.AppendInt(dst, v.Int(), 10), nil
	case kUint:
		return strconv.AppendUint(dst, v.Uint(), 10), nil
	case kFloat32:
		return appendFloat(dst, v.Float(), 32), nil
	case kFloat64:
		return appendFloat(dst, v.Float(), 64), nil
	case kString:
		return protocol.AppendString(dst, v.String()), nil
	case kNumber:
		s := v.String()
		if s == "" {
			s = "0"
		}
		if !json.Valid([]byte(s)) {
			return dst, fmt.Errorf("json: invalid number literal %q", s)
		}
		return append(dst, s...), nil
	case kBytes:
		b := v.Bytes()
		dst = append(dst, '"')
		dst = base64.StdEncoding.AppendEncode(dst, b)
		return append(dst, '"'), nil
	case kMarshaler:
		return appendMarshaler(dst, ti, v)
	case kStruct:
		dst = append(dst, '{')
		first := true
		var err error
		for i := range ti.fields {
			f := &ti.fields[i]
			fv := v.FieldByIndex(f.index)
			if f.omitted(fv) {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = append(dst, f.prefix...)
			if dst, err = appendValue(dst, f.info, fv); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	case kSlice, kArray:
		dst = append(dst, '[')
		n := v.Len()
		var err error
		for i := range n {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendValue(dst, ti.elem, v.Index(i)); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case kMap:
		return appendMap(dst, ti, v)
	case kPtr:
		if v.IsNil() {
			return append(dst, "null"...), nil
		}
		return appendValue(dst, ti.elem, v.Elem())
	case kInterface:
		if v.IsNil() {
			return append(dst, "null"...), nil
		}
		e := v.Elem()
		ei, err := infoOf(e.Type())
		if err != nil {
			return dst, err
		}
		return appendValue(dst, ei, e)
	}
	return dst, fmt.Errorf("jsonvalue: unhandled kind %d", ti.kind)
}

// omitted reports whether a field is left out under omitempty / omitzero.
func (f *field) omitted(v reflect.Value) bool {
	if f.omitZero && isZero(v) {
		return true
	}
	if !f.omitEmpty {
		return false
	}
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

func isZero(v reflect.Value) bool {
	if z, ok := v.Interface().(interface{ IsZero() bool }); ok {
		if v.Kind() == reflect.Pointer && v.IsNil() {
			return true
		}
		return z.IsZero()
	}
	return v.IsZero()
}

func appendMarshaler(dst []byte, ti *typeInfo, v reflect.Value) ([]byte, error) {
	if ti.ptrMarshal {
		if !v.CanAddr() {
			c := reflect.New(v.Type()).Elem()
			c.Set(v)
			v = c
		}
		v = v.Addr()
	} else if v.Kind() == reflect.Pointer && v.IsNil() || v.Kind() == reflect.Interface && v.IsNil() {
		return append(dst, "null"...), nil
	}
	if ti.text {
		b, err := v.Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return dst, fmt.Errorf("json: error calling MarshalText for type %s: %w", ti.t, err)
		}
		return protocol.AppendString(dst, string(b)), nil
	}
	b, err := json.Marshal(v.Interface())
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

func appendMap(dst []byte, ti *typeInfo, v reflect.Value) ([]byte, error) {
	if v.Len() == 0 {
		return append(dst, "{}"...), nil
	}
	type entry struct {
		key string
		val reflect.Value
	}
	entries := make([]entry, 0, v.Len())
	it := v.MapRange()
	for it.Next() {
		k, err := mapKey(ti.key, it.Key())
		if err != nil {
			return dst, err
		}
		entries = append(entries, entry{k, it.Value()})
	}
	slices.SortFunc(entries, func(a, b entry) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	dst = append(dst, '{')
	var err error
	for i, e := range entries {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = protocol.AppendString(dst, e.key)
		dst = append(dst, ':')
		if dst, err = appendValue(dst, ti.elem, e.val); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

func mapKey(k mapKeyKind, v reflect.Value) (string, error) {
	switch k {
	case keyString:
		return v.String(), nil
	case keyInt:
		return strconv.FormatInt(v.Int(), 10), nil
	case keyUint:
		return strconv.FormatUint(v.Uint(), 10), nil
	}
	if v.Kind() == reflect.Pointer && v.IsNil() {
		return "", nil
	}
	b, err := v.Interface().(encoding.TextMarshaler).MarshalText()
	return string(b), err
}

// appendFloat formats like encoding/json (ES6 number formatting); NaN and
// infinities, which JSON cannot carry, become null as in JavaScript.
func appendFloat(dst []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}
