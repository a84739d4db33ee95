package jsonvalue

import (
	"bytes"
	"math"
	"reflect"
	"unsafe"

	"github.com/zocket-go/zocket/protocol"
)

// Patch collects the operations of one diff as a JSON array.
type Patch struct {
	buf  []byte // "[op,op,…" while building
	n    int
	path []byte
	err  error
}

// Reset empties the patch for reuse, keeping its buffers.
func (p *Patch) Reset() {
	p.buf, p.n, p.path, p.err = p.buf[:0], 0, p.path[:0], nil
}

// Len is the number of operations.
func (p *Patch) Len() int { return p.n }

// JSON returns the operations as a JSON array; valid until the next Reset.
func (p *Patch) JSON() []byte {
	if p.n == 0 {
		return []byte("[]")
	}
	return append(p.buf, ']')[:len(p.buf)+1]
}

func (p *Patch) op(op string, ti *typeInfo, v reflect.Value) {
	if p.n == 0 {
		p.buf = append(p.buf, '[')
	} else {
		p.buf = append(p.buf, ',')
	}
	p.n++
	p.buf = append(p.buf, `{"op":"`...)
	p.buf = append(p.buf, op...)
	p.buf = append(p.buf, `","path":`...)
	p.buf = protocol.AppendString(p.buf, string(p.path))
	if ti != nil {
		p.buf = append(p.buf, `,"value":`...)
		var err error
		if p.buf, err = appendValue(p.buf, ti, v); err != nil && p.err == nil {
			p.err = err
		}
	}
	p.buf = append(p.buf, '}')
}

// Diff appends to p the operations that turn old into new; both must be of
// the compiled type, which should be a struct so that no operation targets
// the root. It returns the first encoding error met, if any.
func (t *Type) Diff(p *Patch, old, new reflect.Value) error {
	p.diff(t.info, old, new)
	return p.err
}

func (p *Patch) diff(ti *typeInfo, a, b reflect.Value) {
	switch ti.kind {
	case kBool:
		if a.Bool() != b.Bool() {
			p.op(protocol.OpReplace, ti, b)
		}
	case kInt:
		if a.Int() != b.Int() {
			p.op(protocol.OpReplace, ti, b)
		}
	case kUint:
		if a.Uint() != b.Uint() {
			p.op(protocol.OpReplace, ti, b)
		}
	case kFloat32, kFloat64:
		x, y := a.Float(), b.Float()
		if math.Float64bits(x) != math.Float64bits(y) && !(math.IsNaN(x) && math.IsNaN(y)) {
			p.op(protocol.OpReplace, ti, b)
		}
	case kString, kNumber:
		if a.String() != b.String() {
			p.op(protocol.OpReplace, ti, b)
		}
	case kBytes:
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			p.op(protocol.OpReplace, ti, b)
		}
	case kMarshaler:
		x, err1 := appendValue(nil, ti, a)
		y, err2 := appendValue(nil, ti, b)
		if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
			p.op(protocol.OpReplace, ti, b)
		}
	case kStruct:
		p.diffStruct(ti, a, b)
	case kSlice, kArray:
		p.diffList(ti, a, b)
	case kMap:
		p.diffMap(ti, a, b)
	case kPtr:
		switch {
		case a.IsNil() && b.IsNil():
		case a.IsNil() || b.IsNil():
			p.op(protocol.OpReplace, ti, b)
		case a.Pointer() != b.Pointer() || ti.elem.kind == kMarshaler:
			p.diff(ti.elem, a.Elem(), b.Elem())
		}
	case kInterface:
		switch {
		case a.IsNil() && b.IsNil():
		case a.IsNil() || b.IsNil() || a.Elem().Type() != b.Elem().Type():
			p.op(protocol.OpReplace, ti, b)
		default:
			ei, err := infoOf(b.Elem().Type())
			if err != nil {
				p.err = err
				return
			}
			p.diff(ei, a.Elem(), b.Elem())
		}
	}
}

func (p *Patch) diffStruct(ti *typeInfo, a, b reflect.Value) {
	mark := len(p.path)
	for i := range ti.fields {
		f := &ti.fields[i]
		fa, fb := a.FieldByIndex(f.index), b.FieldByIndex(f.index)
		inA, inB := !f.omitted(fa), !f.omitted(fb)
		if !inA && !inB {
			continue
		}
		p.path = protocol.AppendSegment(p.path, f.name)
		switch {
		case inA && inB:
			p.diff(f.info, fa, fb)
		case inB:
			p.op(protocol.OpAdd, f.info, fb)
		default:
			p.op(protocol.OpRemove, nil, fb)
		}
		p.path = p.path[:mark]
	}
}

func (p *Patch) diffList(ti *typeInfo, a, b reflect.Value) {
	na, nb := a.Len(), b.Len()
	mark := len(p.path)
	common := min(na, nb)
	flat := ti.elem.flat && ti.elem.kind != kMarshaler && ti.elem.kind != kInterface
	var ma, mb []byte // the elements' memory, for slices of flat values
	size := int(ti.elem.t.Size())
	if flat && a.Kind() == reflect.Slice && common > 0 && size > 0 {
		ma = unsafe.Slice((*byte)(a.UnsafePointer()), common*size)
		mb = unsafe.Slice((*byte)(b.UnsafePointer()), common*size)
	}
	for i := 0; i < common; i++ {
		if ma != nil && i%memBlock == 0 {
			// Identical memory means identical values (an unchanged
			// element copied by Clone is byte for byte the same), so
			// whole blocks of unchanged elements are skipped at memcmp speed.
			end := min(i+memBlock, common)
			if bytes.Equal(ma[i*size:end*size], mb[i*size:end*size]) {
				i = end - 1
				continue
			}
		}
		ea, eb := a.Index(i), b.Index(i)
		if flat && (ma != nil && bytes.Equal(ma[i*size:(i+1)*size], mb[i*size:(i+1)*size]) || flatEqual(ea, eb)) {
			continue
		}
		p.path = protocol.AppendIndex(p.path, i)
		p.diff(ti.elem, ea, eb)
		p.path = p.path[:mark]
	}
	for i := na; i < nb; i++ {
		p.path = protocol.AppendIndex(p.path, i)
		p.op(protocol.OpAdd, ti.elem, b.Index(i))
		p.path = p.path[:mark]
	}
	for i := na - 1; i >= nb; i-- {
		p.path = protocol.AppendIndex(p.path, i)
		p.op(protocol.OpRemove, nil, reflect.Value{})
		p.path = p.path[:mark]
	}
}

func (p *Patch) diffMap(ti *typeInfo, a, b reflect.Value) {
	mark := len(p.path)
	it := a.MapRange()
	for it.Next() {
		k := it.Key()
		key, err := mapKey(ti.key, k)
		if err != nil {
			p.err = err
			return
		}
		p.path = protocol.AppendSegment(p.path, key)
		if vb := b.MapIndex(k); vb.IsValid() {
			p.diff(ti.elem, it.Value(), vb)
		} else {
			p.op(protocol.OpRemove, nil, reflect.Value{})
		}
		p.path = p.path[:mark]
	}
	it = b.MapRange()
	for it.Next() {
		k := it.Key()
		if a.MapIndex(k).IsValid() {
			continue
		}
		key, err := mapKey(ti.key, k)
		if err != nil {
			p.err = err
			return
		}
		p.path = protocol.AppendSegment(p.path, key)
		p.op(protocol.OpAdd, ti.elem, it.Value())
		p.path = p.path[:mark]
	}
}

// memBlock is how many flat elements diffList compares per memcmp.
const memBlock = 64

// flatEqual is a fast equality test for values without references: if the
// two values are == in Go they encode identically. Floats are compared by
// bits so that 0 and -0 (which encode differently) are not equal.
func flatEqual(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.String:
		return a.String() == b.String()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return a.Uint() == b.Uint()
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Float32, reflect.Float64:
		return math.Float64bits(a.Float()) == math.Float64bits(b.Float())
	case reflect.Struct:
		for i := range a.NumField() {
			if !flatEqual(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Array:
		for i := range a.Len() {
			if !flatEqual(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	}
	return false
}
