package statestore_test

import (
	"encoding/json"
	"reflect"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/testsupport/patchstream"
	"github.com/zocket-go/zocket/protocol"
	"github.com/zocket-go/zocket/statestore"
)

func ops(t testing.TB, s string) []protocol.Op {
	t.Helper()
	var o []protocol.Op
	require.NoError(t, json.Unmarshal([]byte(s), &o))
	return o
}

func jsonOf(t testing.TB, s *statestore.Store) string {
	t.Helper()
	return string(s.JSON())
}

// The client store's rules: patches before a snapshot are ignored, one
// notification per message, escaped paths, lenient application.
func TestStore_FollowsClientPatchRules(t *testing.T) {
	s := statestore.New()
	calls := 0
	var seen []any
	s.Subscribe(func(doc any) { calls++; seen = append(seen, doc) })

	applied, err := s.ApplyPatch(ops(t, `[{"op":"add","path":"/n","value":1}]`))
	require.NoError(t, err)
	assert.False(t, applied, "a patch before any snapshot is ignored")
	assert.Zero(t, calls)

	require.NoError(t, s.ApplySnapshot(json.RawMessage(`{"arr":["a"],"o":{"x":1,"y":2},"n":1}`)))
	assert.Equal(t, 1, calls)

	_, err = s.ApplyPatch(ops(t, `[{"op":"add","path":"/o/a~1b","value":1},{"op":"add","path":"/o/t~0","value":2},{"op":"add","path":"/arr/-","value":"b"}]`))
	require.NoError(t, err)
	assert.Equal(t, 2, calls, "three operations, one notification")
	assert.JSONEq(t, `{"arr":["a","b"],"o":{"x":1,"y":2,"a/b":1,"t~":2},"n":1}`, jsonOf(t, s))
	assert.NotEqual(t, reflect.ValueOf(seen[0]).Pointer(), reflect.ValueOf(seen[1]).Pointer(), "a new object")
	first, _ := json.Marshal(seen[0])
	assert.JSONEq(t, `{"arr":["a"],"o":{"x":1,"y":2},"n":1}`, string(first), "published documents never change")

	// add or replace without value removes an object member; in an array
	// the element becomes null.
	_, err = s.ApplyPatch(ops(t, `[{"op":"replace","path":"/o/x"},{"op":"replace","path":"/arr/0"}]`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"arr":[null,"b"],"o":{"y":2,"a/b":1,"t~":2},"n":1}`, jsonOf(t, s))

	// An operation that fails: nothing changes, no notification, ErrPatch.
	before := jsonOf(t, s)
	_, err = s.ApplyPatch(ops(t, `[{"op":"replace","path":"/n","value":9},{"op":"remove","path":"/missing/x"}]`))
	assert.ErrorIs(t, err, statestore.ErrPatch)
	assert.Equal(t, before, jsonOf(t, s))
	assert.Equal(t, 3, calls)

	// A new subscriber gets the current state at once.
	var got any
	s.Subscribe(func(doc any) { got = doc })
	assert.NotNil(t, got)
}

func TestRFC6902Semantics(t *testing.T) {
	for _, c := range []struct{ doc, patch, want string }{
		{`{"a":[1,2]}`, `[{"op":"add","path":"/a/0","value":0}]`, `{"a":[0,1,2]}`},
		{`{"a":[1,2]}`, `[{"op":"add","path":"/a/2","value":3}]`, `{"a":[1,2,3]}`},
		{`{"a":[1,2,3]}`, `[{"op":"remove","path":"/a/1"}]`, `{"a":[1,3]}`},
		{`{"a":[1,2]}`, `[{"op":"replace","path":"/a/1","value":5}]`, `{"a":[1,5]}`},
		{`{"a":{}}`, `[{"op":"add","path":"/a/b","value":{"c":[]}},{"op":"add","path":"/a/b/c/0","value":1}]`, `{"a":{"b":{"c":[1]}}}`},
		{`{"a":1}`, `[{"op":"replace","path":"","value":{"b":2}}]`, `{"b":2}`},
		{`{"a":1}`, `[{"op":"move","from":"/a","path":"/b"}]`, `{"a":1}`},
	} {
		s := statestore.New()
		require.NoError(t, s.ApplySnapshot(json.RawMessage(c.doc)))
		_, err := s.ApplyPatch(ops(t, c.patch))
		require.NoError(t, err, c.patch)
		assert.JSONEq(t, c.want, jsonOf(t, s), c.patch)
	}
	for _, bad := range []string{`[{"op":"add","path":"/a/5","value":1}]`, `[{"op":"replace","path":"/z","value":1}]`,
		`[{"op":"remove","path":"/a/x"}]`, `[{"op":"add","path":"/q/r","value":1}]`, `[{"op":"add","path":"/a/01","value":1}]`} {
		s := statestore.New()
		require.NoError(t, s.ApplySnapshot(json.RawMessage(`{"a":[1,2]}`)))
		_, err := s.ApplyPatch(ops(t, bad))
		assert.ErrorIs(t, err, statestore.ErrPatch, bad)
		assert.JSONEq(t, `{"a":[1,2]}`, jsonOf(t, s))
	}
}

func TestTypedDecodesOncePerUpdate(t *testing.T) {
	type st struct {
		N    int64    `json:"n"`
		Tags []string `json:"tags"`
	}
	s := statestore.New()
	var a, b []st
	s1 := statestore.SubscribeTyped(s, func(v st) { a = append(a, v) })
	statestore.SubscribeTyped(s, func(v st) { b = append(b, v) })
	require.NoError(t, s.ApplySnapshot(json.RawMessage(`{"n":9007199254740993,"tags":[]}`)))
	_, err := s.ApplyPatch(ops(t, `[{"op":"add","path":"/tags/0","value":"x"}]`))
	require.NoError(t, err)
	require.Len(t, a, 2)
	assert.Equal(t, int64(9007199254740993), a[0].N, "integers pass through exactly")
	assert.Equal(t, []string{"x"}, a[1].Tags)
	assert.Equal(t, a, b)
	allocs := testing.AllocsPerRun(10, func() { _, _, _ = statestore.Typed[st](s) })
	assert.Zero(t, allocs, "a second decode of the same version is cached")
	s1()
	s1() // twice is harmless
	assert.Equal(t, 1, s.Listeners())
}

// Random server patch streams: a Store fed the patches that the server's
// diff produces ends equal to the server's state.
func TestRandomPatchStreamsMatchServer(t *testing.T) {
	steps, err := patchstream.Steps(7, 8, 1200)
	require.NoError(t, err)
	s := statestore.New()
	require.NoError(t, s.ApplySnapshot(steps[0].Before))
	for i, step := range steps {
		if step.Patch != nil {
			_, err := s.ApplyPatch(ops(t, string(step.Patch)))
			require.NoError(t, err, "step %d: %s", i, step.Patch)
		}
		require.JSONEq(t, string(step.After), jsonOf(t, s), "step %d", i)
	}
}

func bigDoc(n int) json.RawMessage {
	b := []byte(`{"items":[`)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `,"v":"x`...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, `"}`...)
	}
	return append(b, "]}"...)
}

func BenchmarkApplyPatch(b *testing.B) {
	for _, n := range []int{100, 1000, 10_000} {
		b.Run("touch/n="+strconv.Itoa(n), func(b *testing.B) {
			s := statestore.New()
			require.NoError(b, s.ApplySnapshot(bigDoc(n)))
			o := ops(b, `[{"op":"replace","path":"/items/`+strconv.Itoa(n/2)+`/v","value":"t"}]`)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.ApplyPatch(o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkTypedDecode(b *testing.B) {
	type item struct {
		ID int    `json:"id"`
		V  string `json:"v"`
	}
	type state struct {
		Items []item `json:"items"`
	}
	for _, n := range []int{100, 10_000} {
		b.Run("n="+strconv.Itoa(n), func(b *testing.B) {
			s := statestore.New()
			require.NoError(b, s.ApplySnapshot(bigDoc(n)))
			o := ops(b, `[{"op":"replace","path":"/items/0/v","value":"t"}]`)
			b.ReportAllocs()
			for b.Loop() {
				_, _ = s.ApplyPatch(o) // a new version, so Typed decodes
				if _, _, err := statestore.Typed[state](s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
