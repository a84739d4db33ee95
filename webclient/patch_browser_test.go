package webclient_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/testsupport/browsertest"
	"github.com/zocket-go/zocket/internal/testsupport/patchstream"
	"github.com/zocket-go/zocket/protocol"
	"github.com/zocket-go/zocket/statestore"
	"github.com/zocket-go/zocket/webclient"
)

// vector is one state:patch message applied to a document.
type vector struct {
	Doc json.RawMessage `json:"doc"`
	Ops json.RawMessage `json:"ops"`
}

// outcome is what applying a vector gives: the document, or a failure
// that leaves the previous one.
type outcome struct {
	OK  bool   `json:"ok"`
	Doc string `json:"doc"`
}

// goApply applies v with the Go client's state store.
func goApply(t *testing.T, v vector) outcome {
	t.Helper()
	s := statestore.New()
	require.NoError(t, s.ApplySnapshot(v.Doc))
	var ops []protocol.Op
	require.NoError(t, json.Unmarshal(v.Ops, &ops))
	if _, err := s.ApplyPatch(ops); err != nil {
		return outcome{}
	}
	return outcome{OK: true, Doc: string(s.JSON())}
}

// browserApply applies every vector with zocket.js's applyPatch in a page,
// and checks there that a failed or successful patch never changed its
// input document.
func browserApply(t *testing.T, vs []vector) []outcome {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			fmt.Fprint(w, "<!doctype html><title>patches</title>")
			return
		}
		webclient.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	tab := browsertest.Tab(t, browsertest.Browser(t))
	require.NoError(t, chromedp.Do(tab, chromedp.Navigate(srv.URL)))
	in, err := json.Marshal(vs)
	require.NoError(t, err)
	out, err := chromedp.Run(tab, chromedp.Evaluate[[]outcome](`import("/zocket.js").then(({ applyPatch }) =>
		`+string(in)+`.map(({ doc, ops }) => {
			const before = JSON.stringify(doc);
			let r;
			try { r = { ok: true, doc: JSON.stringify(applyPatch(doc, ops)) }; } catch (e) {
				if (e.name !== "PatchError") throw e;
				r = { ok: false, doc: "" };
			}
			if (JSON.stringify(doc) !== before) throw new Error("applyPatch changed its input");
			return r;
		}))`, chromedp.EvalAwaitPromise))
	require.NoError(t, err)
	require.Len(t, out, len(vs))
	return out
}

func TestApplyPatch_AgreesWithGoStateStore(t *testing.T) {
	vs := append(fixedVectors(), serverStream(t)...)
	vs = append(vs, randomVectors(rand.New(rand.NewPCG(1, 2)), 1500)...)
	got := browserApply(t, vs)
	failures := 0
	for i, v := range vs {
		want := goApply(t, v)
		if !assert.Equal(t, want.OK, got[i].OK, "vector %d: %s on %s", i, v.Ops, v.Doc) {
			failures++
		} else if want.OK && !assert.JSONEq(t, want.Doc, got[i].Doc, "vector %d: %s on %s", i, v.Ops, v.Doc) {
			failures++
		}
		if failures > 5 {
			t.FailNow()
		}
	}
}

// fixedVectors are the documented cases: escaping, root, inserts, values
// left out, ignored operations, and patches that cannot apply.
func fixedVectors() []vector {
	var vs []vector
	for _, c := range [][2]string{
		{`{"arr":["a"],"o":{"x":1}}`, `[{"op":"add","path":"/o/a~1b","value":1},{"op":"add","path":"/o/t~0","value":2},{"op":"add","path":"/arr/-","value":"b"}]`},
		{`{"arr":["a","b"],"o":{"x":1,"y":2}}`, `[{"op":"replace","path":"/o/x"},{"op":"replace","path":"/arr/0"}]`},
		{`{"n":1}`, `[{"op":"replace","path":"/n","value":9},{"op":"remove","path":"/missing/x"}]`},
		{`{"a":[1,2]}`, `[{"op":"add","path":"/a/0","value":0}]`},
		{`{"a":[1,2,3]}`, `[{"op":"remove","path":"/a/1"}]`},
		{`{"a":{}}`, `[{"op":"add","path":"/a/b","value":{"c":[]}},{"op":"add","path":"/a/b/c/0","value":1}]`},
		{`{"a":1}`, `[{"op":"replace","path":"","value":{"b":2}}]`},
		{`{"a":1}`, `[{"op":"add","path":"/","value":[3]}]`},
		{`{"a":1}`, `[{"op":"move","from":"/a","path":"/b"},{"op":"test","path":"/a","value":2}]`},
		{`{"o":{}}`, `[{"op":"add","path":"/o/__proto__","value":{"polluted":true}}]`},
		{`{"a":[1,2]}`, `[{"op":"add","path":"/a/5","value":1}]`},
		{`{"a":[1,2]}`, `[{"op":"replace","path":"/z","value":1}]`},
		{`{"a":[1,2]}`, `[{"op":"remove","path":"/a/x"}]`},
		{`{"a":[1,2]}`, `[{"op":"add","path":"/q/r","value":1}]`},
		{`{"a":[1,2]}`, `[{"op":"add","path":"/a/01","value":1}]`},
		{`{"a":[1,2]}`, `[{"op":"replace","path":"/a/-","value":1}]`},
		{`{"a":"s"}`, `[{"op":"add","path":"/a/0","value":1}]`},
	} {
		vs = append(vs, vector{json.RawMessage(c[0]), json.RawMessage(c[1])})
	}
	return vs
}

// serverStream returns the patches the server's diff emits for random
// state changes, each with the document it applies to: the stream of the
// Go state store's property test.
func serverStream(t *testing.T) []vector {
	steps, err := patchstream.Steps(7, 8, 1200)
	require.NoError(t, err)
	var vs []vector
	for _, s := range steps {
		if s.Patch != nil {
			vs = append(vs, vector{s.Before, s.Patch})
		}
	}
	return vs
}

var escaper = strings.NewReplacer("~", "~0", "/", "~1")

// randomVectors returns random operations, mostly on paths that exist,
// some not, on random documents: successes and failures must agree.
func randomVectors(r *rand.Rand, n int) []vector {
	keys := []string{"a", "b/c", "d~e", "", "0", "~1"}
	var value func(depth int) any
	value = func(depth int) any {
		switch k := r.IntN(6); {
		case depth > 2 || k == 0:
			return []any{nil, true, 1.5, "s", 0.0}[r.IntN(5)]
		case k < 3:
			m := map[string]any{}
			for range r.IntN(4) {
				m[keys[r.IntN(len(keys))]] = value(depth + 1)
			}
			return m
		default:
			s := []any{}
			for range r.IntN(4) {
				s = append(s, value(depth+1))
			}
			return s
		}
	}
	// path walks doc to a random depth, sometimes taking a segment that
	// is not there.
	path := func(doc any) string {
		var b strings.Builder
		for r.IntN(4) != 0 {
			seg := keys[r.IntN(len(keys))]
			switch n := doc.(type) {
			case map[string]any:
				if len(n) > 0 && r.IntN(5) != 0 {
					members := slices.Sorted(maps.Keys(n))
					seg = members[r.IntN(len(members))]
				}
				doc = n[seg]
			case []any:
				if len(n) > 0 && r.IntN(5) != 0 {
					i := r.IntN(len(n))
					seg, doc = fmt.Sprint(i), n[i]
				} else {
					seg = []string{"-", "01", fmt.Sprint(len(n)), fmt.Sprint(len(n) + 1), "x"}[r.IntN(5)]
				}
			}
			b.WriteString("/" + escaper.Replace(seg))
		}
		return b.String()
	}
	var vs []vector
	for range n {
		doc := map[string]any{"root": value(0), "list": value(1)}
		var ops []map[string]any
		for range 1 + r.IntN(3) {
			op := map[string]any{"op": []string{"add", "replace", "remove", "copy"}[r.IntN(4)], "path": path(doc)}
			if op["op"] != "remove" && r.IntN(8) != 0 {
				op["value"] = value(1)
			}
			ops = append(ops, op)
		}
		d, _ := json.Marshal(doc)
		o, _ := json.Marshal(ops)
		vs = append(vs, vector{d, o})
	}
	return vs
}
