package jsonvalue

import (
	"reflect"
	"sync"
)

// clonePlan says how to deep-copy one Go type.
type clonePlan struct {
	flat bool  // assignment is a deep copy
	deep []int // struct: exported direct fields that need a deep copy
}

var clonePlans sync.Map // reflect.Type → *clonePlan

func planOf(t reflect.Type) *clonePlan {
	if p, ok := clonePlans.Load(t); ok {
		return p.(*clonePlan)
	}
	p := &clonePlan{flat: isFlat(t, map[reflect.Type]bool{})}
	if !p.flat && t.Kind() == reflect.Struct {
		for i := range t.NumField() {
			f := t.Field(i)
			if f.IsExported() && !isFlat(f.Type, map[reflect.Type]bool{}) {
				p.deep = append(p.deep, i)
			}
		}
	}
	clonePlans.Store(t, p)
	return p
}

// Clone sets dst, which must be settable, to a deep copy of src. Slices,
// maps, pointers and interfaces reachable through exported fields are copied;
// strings are shared (immutable); unexported fields are copied shallowly.
// A slice of values without references is copied with one memmove.
func Clone(dst, src reflect.Value) {
	p := planOf(src.Type())
	if p.flat {
		dst.Set(src)
		return
	}
	switch src.Kind() {
	case reflect.Struct:
		dst.Set(src)
		for _, i := range p.deep {
			Clone(dst.Field(i), src.Field(i))
		}
	case reflect.Slice:
		if src.IsNil() {
			dst.SetZero()
			return
		}
		n := src.Len()
		ns := reflect.MakeSlice(src.Type(), n, n)
		if planOf(src.Type().Elem()).flat {
			reflect.Copy(ns, src)
		} else {
			for i := range n {
				Clone(ns.Index(i), src.Index(i))
			}
		}
		dst.Set(ns)
	case reflect.Array:
		for i := range src.Len() {
			Clone(dst.Index(i), src.Index(i))
		}
	case reflect.Map:
		if src.IsNil() {
			dst.SetZero()
			return
		}
		nm := reflect.MakeMapWithSize(src.Type(), src.Len())
		flat := planOf(src.Type().Elem()).flat
		it := src.MapRange()
		var tmp reflect.Value
		if !flat {
			tmp = reflect.New(src.Type().Elem()).Elem()
		}
		for it.Next() {
			if flat {
				nm.SetMapIndex(it.Key(), it.Value())
				continue
			}
			Clone(tmp, it.Value())
			nm.SetMapIndex(it.Key(), tmp)
		}
		dst.Set(nm)
	case reflect.Pointer:
		if src.IsNil() {
			dst.SetZero()
			return
		}
		np := reflect.New(src.Type().Elem())
		Clone(np.Elem(), src.Elem())
		dst.Set(np)
	case reflect.Interface:
		if src.IsNil() {
			dst.SetZero()
			return
		}
		e := src.Elem()
		if planOf(e.Type()).flat {
			dst.Set(src)
			return
		}
		nv := reflect.New(e.Type()).Elem()
		Clone(nv, e)
		dst.Set(nv)
	default:
		dst.Set(src) // channels, funcs: shared
	}
}
