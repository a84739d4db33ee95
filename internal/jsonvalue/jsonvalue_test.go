package jsonvalue

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/testsupport/patchtest"
	"github.com/zocket-go/zocket/protocol"
)

type inner struct {
	X int    `json:"x"`
	Y string `json:"y,omitempty"`
}

type Embedded struct {
	E1 string `json:"e1"`
	E2 int
}

type sample struct {
	Embedded
	Name    string            `json:"name"`
	Skip    string            `json:"-"`
	Dash    string            `json:"-,"`
	Count   int64             `json:"count"`
	Ratio   float64           `json:"ratio"`
	Small   float32           `json:"small"`
	Flag    bool              `json:"flag"`
	Tags    []string          `json:"tags"`
	Nested  inner             `json:"nested"`
	Ptr     *inner            `json:"ptr"`
	Map     map[string]int    `json:"map"`
	IntMap  map[int]string    `json:"intMap"`
	Any     any               `json:"any"`
	When    time.Time         `json:"when"`
	Raw     json.RawMessage   `json:"raw"`
	Bytes   []byte            `json:"bytes"`
	Num     json.Number       `json:"num"`
	Opt     string            `json:"opt,omitempty"`
	Zero    time.Time         `json:"zero,omitzero"`
	Arr     [2]int            `json:"arr"`
	Objs    []inner           `json:"objs"`
	Deep    map[string][]bool `json:"deep"`
	private int
}

func TestAppendMatchesEncodingJSON(t *testing.T) {
	v := sample{
		Embedded: Embedded{E1: "e", E2: 2}, Name: "a<b>&\u2028\x01\"\\é", Dash: "d", Count: -5,
		Ratio: 1e21, Small: 1e-7, Flag: true, Tags: []string{"x", ""}, Nested: inner{X: 1},
		Ptr: &inner{X: 2, Y: "y"}, Map: map[string]int{"b": 2, "a": 1}, IntMap: map[int]string{10: "t", 2: "w"},
		Any: map[string]any{"k": []any{1.5, "s", nil}}, When: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
		Raw: json.RawMessage(`{"r":1}`), Bytes: []byte("hi"), Num: "12.5", Arr: [2]int{1, 2},
		Objs: []inner{{X: 3}}, Deep: map[string][]bool{"q": {true}}, private: 7,
	}
	got, err := Marshal(v)
	require.NoError(t, err)
	want, err := json.Marshal(v)
	require.NoError(t, err)
	var g, w any
	require.NoError(t, json.Unmarshal(got, &g))
	require.NoError(t, json.Unmarshal(want, &w))
	assert.Equal(t, w, g)
	assert.True(t, strings.HasPrefix(string(got), `{"e1":"e","E2":2,"name":`), string(got))
}

func TestNilSlicesAndMapsEncodeEmpty(t *testing.T) {
	type s struct {
		L []int          `json:"l"`
		M map[string]int `json:"m"`
		P *inner         `json:"p"`
	}
	got, err := Marshal(s{})
	require.NoError(t, err)
	assert.JSONEq(t, `{"l":[],"m":{},"p":null}`, string(got))
}

func TestFloatsLikeJavaScript(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want string
	}{{1, "1"}, {0.1, "0.1"}, {1e21, "1e+21"}, {1e-7, "1e-7"}, {123456789, "123456789"}} {
		got, err := Marshal(c.f)
		require.NoError(t, err)
		assert.Equal(t, c.want, string(got))
	}
	type nan struct {
		F float64 `json:"f"`
	}
	got, err := Marshal(nan{F: math.NaN()})
	require.NoError(t, err)
	assert.Equal(t, `{"f":null}`, string(got))
}

func TestTypeOfRejectsWhatJSONCannotCarry(t *testing.T) {
	for name, v := range map[string]any{
		"chan":    struct{ C chan int }{},
		"func":    struct{ F func() }{},
		"complex": struct{ C complex64 }{},
		"mapKey":  struct{ M map[[2]int]int }{},
		"string": struct {
			N int `json:"n,string"`
		}{},
		"embedPtr": struct{ *inner }{},
	} {
		_, err := TypeOf(reflect.TypeOf(v))
		assert.Error(t, err, name)
	}
}

func diffOf(t *testing.T, old, new any) []protocol.Op {
	t.Helper()
	typ, err := TypeOf(reflect.TypeOf(old))
	require.NoError(t, err)
	var p Patch
	require.NoError(t, typ.Diff(&p, reflect.ValueOf(old), reflect.ValueOf(new)))
	var ops []protocol.Op
	require.NoError(t, json.Unmarshal(p.JSON(), &ops))
	return ops
}

// TestDiffMatchesImmerShapes checks that common changes give the patches
// the TS server (Immer) gives.
func TestDiffMatchesImmerShapes(t *testing.T) {
	type arr struct {
		Arr []string `json:"arr"`
	}
	type obj struct {
		O map[string]int `json:"o"`
	}
	cases := []struct {
		name     string
		old, new any
		want     string
	}{
		{"splice0", arr{[]string{"a", "b", "c"}}, arr{[]string{"b", "c"}},
			`[{"op":"replace","path":"/arr/0","value":"b"},{"op":"replace","path":"/arr/1","value":"c"},{"op":"remove","path":"/arr/2"}]`},
		{"pop", arr{[]string{"a", "b", "c"}}, arr{[]string{"a", "b"}}, `[{"op":"remove","path":"/arr/2"}]`},
		{"unshift", arr{[]string{"a", "b"}}, arr{[]string{"z", "a", "b"}},
			`[{"op":"replace","path":"/arr/0","value":"z"},{"op":"replace","path":"/arr/1","value":"a"},{"op":"add","path":"/arr/2","value":"b"}]`},
		{"clear", arr{[]string{"a", "b", "c"}}, arr{[]string{}},
			`[{"op":"remove","path":"/arr/2"},{"op":"remove","path":"/arr/1"},{"op":"remove","path":"/arr/0"}]`},
		{"delete", obj{map[string]int{"x": 1, "y": 2}}, obj{map[string]int{"y": 2}}, `[{"op":"remove","path":"/o/x"}]`},
		{"escape", obj{map[string]int{}}, obj{map[string]int{"a/b": 1}}, `[{"op":"add","path":"/o/a~1b","value":1}]`},
		{"tilde", obj{map[string]int{}}, obj{map[string]int{"t~": 2}}, `[{"op":"add","path":"/o/t~0","value":2}]`},
		{"same", arr{[]string{"a"}}, arr{[]string{"a"}}, `[]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ops := diffOf(t, c.old, c.new)
			got, _ := json.Marshal(ops)
			assert.JSONEq(t, c.want, string(got))
		})
	}
}

// The property test: random documents, random mutations; the patch applied
// with both TS-client and RFC 6902 rules to the old encoding gives the new.
type propItem struct {
	ID   int               `json:"id"`
	Name string            `json:"name,omitempty"`
	Tags []string          `json:"tags"`
	Meta map[string]string `json:"meta"`
	Next *propItem         `json:"next"`
}

type propState struct {
	N     float64              `json:"n"`
	S     string               `json:"s"`
	Items []propItem           `json:"items"`
	ByKey map[string]*propItem `json:"byKey"`
	Grid  [][]int              `json:"grid"`
	Any   any                  `json:"any"`
	Opt   *int                 `json:"opt,omitempty"`
	Nums  []flatPair           `json:"nums"`
}

type flatPair struct {
	K int    `json:"k"`
	V string `json:"v"`
}

func randString(r *rand.Rand) string {
	const alphabet = "ab/~c"
	b := make([]byte, r.IntN(3))
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func randItem(r *rand.Rand, depth int) propItem {
	it := propItem{ID: r.IntN(100), Name: randString(r)}
	for range r.IntN(3) {
		it.Tags = append(it.Tags, randString(r))
	}
	if r.IntN(2) == 0 {
		it.Meta = map[string]string{}
		for range r.IntN(3) {
			it.Meta[randString(r)] = randString(r)
		}
	}
	if depth > 0 && r.IntN(3) == 0 {
		n := randItem(r, depth-1)
		it.Next = &n
	}
	return it
}

func randAny(r *rand.Rand) any {
	switch r.IntN(5) {
	case 0:
		return nil
	case 1:
		return float64(r.IntN(10))
	case 2:
		return randString(r)
	case 3:
		return []any{float64(r.IntN(3)), randString(r)}
	}
	return map[string]any{randString(r): float64(r.IntN(3))}
}

func mutate(r *rand.Rand, s *propState) {
	for range 1 + r.IntN(4) {
		switch r.IntN(15) {
		case 12:
			s.Nums = append(s.Nums, flatPair{K: r.IntN(9), V: randString(r)})
		case 13:
			if len(s.Nums) > 0 {
				s.Nums[r.IntN(len(s.Nums))].V = randString(r)
			}
		case 14:
			if len(s.Nums) > 0 {
				s.Nums = s.Nums[:r.IntN(len(s.Nums))]
			}
		case 0:
			s.N = float64(r.IntN(5))
		case 1:
			s.S = randString(r)
		case 2:
			s.Items = append(s.Items, randItem(r, 2))
		case 3:
			if len(s.Items) > 0 {
				i := r.IntN(len(s.Items))
				s.Items = append(s.Items[:i], s.Items[i+1:]...)
			}
		case 4:
			if len(s.Items) > 0 {
				s.Items[r.IntN(len(s.Items))] = randItem(r, 2)
			}
		case 5:
			if len(s.Items) > 0 {
				it := &s.Items[r.IntN(len(s.Items))]
				it.Tags = append([]string{randString(r)}, it.Tags...)
				it.Name = randString(r)
			}
		case 6:
			if s.ByKey == nil {
				s.ByKey = map[string]*propItem{}
			}
			it := randItem(r, 1)
			s.ByKey[randString(r)] = &it
		case 7:
			for k := range s.ByKey {
				if r.IntN(2) == 0 {
					delete(s.ByKey, k)
				} else if s.ByKey[k] != nil {
					s.ByKey[k].ID++
				}
			}
		case 8:
			s.Grid = append(s.Grid, make([]int, r.IntN(3)))
		case 9:
			if len(s.Grid) > 0 {
				g := r.IntN(len(s.Grid))
				s.Grid[g] = append(s.Grid[g], r.IntN(4))
			}
		case 10:
			s.Any = randAny(r)
		case 11:
			if r.IntN(2) == 0 {
				s.Opt = nil
			} else {
				n := r.IntN(3)
				s.Opt = &n
			}
		}
	}
}

func TestDiffProperty(t *testing.T) {
	typ, err := TypeOf(reflect.TypeFor[propState]())
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(1, 2))
	var p Patch
	for iter := range 3000 {
		var old propState
		for range r.IntN(4) {
			mutate(r, &old)
		}
		var next propState
		Clone(reflect.ValueOf(&next).Elem(), reflect.ValueOf(old))
		mutate(r, &next)
		oldJSON, err := Marshal(old)
		require.NoError(t, err)
		newJSON, err := Marshal(next)
		require.NoError(t, err)

		p.Reset()
		require.NoError(t, typ.Diff(&p, reflect.ValueOf(old), reflect.ValueOf(next)))
		var ops []protocol.Op
		require.NoError(t, json.Unmarshal(p.JSON(), &ops))

		oldDoc, _ := patchtest.Decode(oldJSON)
		want, _ := patchtest.Decode(newJSON)
		for _, mode := range []patchtest.Mode{patchtest.TS, patchtest.RFC} {
			got, err := patchtest.Apply(oldDoc, ops, mode)
			require.NoError(t, err, "iter %d mode %d ops %s", iter, mode, p.JSON())
			require.Equal(t, want, got, "iter %d mode %d\nold %s\nnew %s\nops %s", iter, mode, oldJSON, newJSON, p.JSON())
		}
		if string(oldJSON) == string(newJSON) {
			require.Zero(t, p.Len(), "no-op mutation must give no patch")
		}
		// Clone is deep: mutating the copy never changed the original.
		again, _ := Marshal(old)
		require.Equal(t, string(oldJSON), string(again), "clone shares memory")
	}
}

// TestDiffAllocationsFollowTheChange: touching one element of a large list
// allocates the same whatever the list's length.
func TestDiffAllocationsFollowTheChange(t *testing.T) {
	type item struct {
		ID int    `json:"id"`
		V  string `json:"v"`
	}
	type big struct {
		Items []item `json:"items"`
	}
	typ, err := TypeOf(reflect.TypeFor[big]())
	require.NoError(t, err)
	allocs := func(n int) float64 {
		old := big{Items: make([]item, n)}
		for i := range old.Items {
			old.Items[i] = item{ID: i, V: fmt.Sprint("x", i)}
		}
		next := big{Items: append([]item(nil), old.Items...)}
		next.Items[n/2].V = "touched"
		var p Patch
		return testing.AllocsPerRun(20, func() {
			p.Reset()
			_ = typ.Diff(&p, reflect.ValueOf(old), reflect.ValueOf(next))
		})
	}
	small, large := allocs(100), allocs(20000)
	assert.LessOrEqual(t, large, small, "allocations grow with state size: %v at 100, %v at 20000", small, large)
}

// Recycle gives the same result as Clone, never shares memory with src, and
// reuses the spare's arrays.
func TestRecycle(t *testing.T) {
	type flat struct {
		A int    `json:"a"`
		S string `json:"s"`
	}
	type st struct {
		Items []flat             `json:"items"`
		Deep  []propItem         `json:"deep"`
		P     *struct{ L []int } `json:"p"`
	}
	src := st{Items: []flat{{1, "x"}, {2, "y"}}, Deep: []propItem{{ID: 1, Tags: []string{"t"}}}, P: &struct{ L []int }{L: []int{1}}}
	spare := st{Items: make([]flat, 0, 10), P: &struct{ L []int }{L: make([]int, 0, 5)}}
	var dst st
	Recycle(reflect.ValueOf(&dst).Elem(), reflect.ValueOf(src), reflect.ValueOf(spare))
	a, _ := Marshal(src)
	b, _ := Marshal(dst)
	assert.Equal(t, string(a), string(b))
	assert.Same(t, &spare.Items[:1][0], &dst.Items[0], "flat slice reuses the spare's array")
	assert.Same(t, &spare.P.L[:1][0], &dst.P.L[0])
	dst.Items[0].A = 99
	dst.Deep[0].Tags[0] = "changed"
	dst.P.L[0] = 7
	again, _ := Marshal(src)
	assert.Equal(t, string(a), string(again), "no memory shared with src")
}

// A spare whose fields share one array (a handler wrote b = a) is not
// reused twice: the copy keeps its fields apart.
func TestRecycleAliasedSpare(t *testing.T) {
	type st struct {
		A []int `json:"a"`
		B []int `json:"b"`
	}
	shared := make([]int, 3, 8)
	spare := st{A: shared, B: shared[1:]}
	src := st{A: []int{1, 2, 3}, B: []int{7, 8}}
	var dst st
	Recycle(reflect.ValueOf(&dst).Elem(), reflect.ValueOf(src), reflect.ValueOf(spare))
	assert.Equal(t, []int{1, 2, 3}, dst.A)
	assert.Equal(t, []int{7, 8}, dst.B)
	dst.B[0] = 100
	assert.Equal(t, []int{1, 2, 3}, dst.A, "A and B do not share memory")
}

// The commit loop of an instance: each draft recycles the state the
// previous commit replaced. The committed state never changes under a
// draft's mutations, and every patch rebuilds the next state.
func TestRecycleCommitLoopProperty(t *testing.T) {
	typ, err := TypeOf(reflect.TypeFor[propState]())
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(5, 6))
	committed := reflect.New(reflect.TypeFor[propState]())
	var spare reflect.Value
	var p Patch
	for iter := range 2000 {
		draft := reflect.New(committed.Type().Elem())
		if spare.IsValid() {
			Recycle(draft.Elem(), committed.Elem(), spare.Elem())
		} else {
			Clone(draft.Elem(), committed.Elem())
		}
		before, _ := Marshal(committed.Interface())
		mutate(r, draft.Interface().(*propState))
		after, _ := Marshal(committed.Interface())
		require.Equal(t, string(before), string(after), "iter %d: draft shares memory with the committed state", iter)

		p.Reset()
		require.NoError(t, typ.Diff(&p, committed.Elem(), draft.Elem()))
		var ops []protocol.Op
		require.NoError(t, json.Unmarshal(p.JSON(), &ops))
		oldDoc, _ := patchtest.Decode(before)
		newJSON, _ := Marshal(draft.Interface())
		want, _ := patchtest.Decode(newJSON)
		got, err := patchtest.Apply(oldDoc, ops, patchtest.TS)
		require.NoError(t, err)
		require.Equal(t, want, got, "iter %d", iter)
		if r.IntN(5) == 0 {
			spare = draft // a failed call: the draft is discarded
			continue
		}
		spare, committed = committed, draft
	}
}
