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
		ns := reflect.MakeSlice(src.Type(), n, headroom(n))
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

// headroom is the capacity given to a copied slice of length n, so that
// the common append to a copied list does not copy it again.
func headroom(n int) int { return n + n/8 + 4 }

// Recycle is Clone that reuses memory of spare, a value of the same type
// that nobody uses any more (the state a commit replaced): a slice of
// values without references is copied into spare's array when it fits, so a
// call on a large list copies it without allocating. dst must be settable.
// An array that spare reaches twice (two fields sharing it) is reused once
// only, so dst never aliases where src does not.
func Recycle(dst, src, spare reflect.Value) {
	var r recycler
	r.recycle(dst, src, spare)
}

// recycler remembers the spare arrays one Recycle has handed out.
type recycler struct {
	used []memRange
}

type memRange struct{ start, end uintptr }

func (r *recycler) recycle(dst, src, spare reflect.Value) {
	if !spare.IsValid() {
		Clone(dst, src)
		return
	}
	p := planOf(src.Type())
	switch {
	case p.flat:
		dst.Set(src)
	case src.Kind() == reflect.Struct:
		dst.Set(src)
		for _, i := range p.deep {
			r.recycle(dst.Field(i), src.Field(i), spare.Field(i))
		}
	case src.Kind() == reflect.Pointer && !src.IsNil() && !spare.IsNil():
		np := reflect.New(src.Type().Elem())
		r.recycle(np.Elem(), src.Elem(), spare.Elem())
		dst.Set(np)
	case src.Kind() == reflect.Slice && !src.IsNil() && planOf(src.Type().Elem()).flat &&
		!spare.IsNil() && spare.Cap() >= src.Len() && r.claim(spare):
		ns := spare.Slice3(0, src.Len(), spare.Cap())
		reflect.Copy(ns, src)
		dst.Set(ns)
	default:
		Clone(dst, src)
	}
}

// claim reserves the array of slice s unless an earlier claim overlaps it.
func (r *recycler) claim(s reflect.Value) bool {
	size := s.Type().Elem().Size()
	if size == 0 || s.Cap() == 0 {
		return false
	}
	m := memRange{start: s.Pointer(), end: s.Pointer() + uintptr(s.Cap())*size}
	for _, u := range r.used {
		if m.start < u.end && u.start < m.end {
			return false
		}
	}
	r.used = append(r.used, m)
	return true
}

// Flat reports whether assigning a value of type t is a deep copy: it
// holds no pointers, slices, maps, interfaces, channels or functions.
func Flat(t reflect.Type) bool { return planOf(t).flat }
