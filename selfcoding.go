package zocket

import (
	"encoding"
	"encoding/json"
	"reflect"
)

// Types with their own JSON coding are values to the framework: it neither
// looks inside them nor requires anything of their members.

var (
	jsonMarshalerType   = reflect.TypeFor[json.Marshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// encodesItself reports whether t, or a pointer to it, is a json.Marshaler
// or an encoding.TextMarshaler.
func encodesItself(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return t.Implements(jsonMarshalerType) || pt.Implements(jsonMarshalerType) ||
		t.Implements(textMarshalerType) || pt.Implements(textMarshalerType)
}

// decodesItself reports whether a pointer to t is a json.Unmarshaler or an
// encoding.TextUnmarshaler.
func decodesItself(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return pt.Implements(jsonUnmarshalerType) || pt.Implements(textUnmarshalerType)
}
