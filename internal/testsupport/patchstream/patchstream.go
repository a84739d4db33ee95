// Package patchstream generates a reproducible stream of random state
// changes and the patches the server's diff emits for them, for property
// tests of patch application (the Go state store, the browser client).
// It exists for tests.
package patchstream

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"

	"github.com/zocket-go/zocket/internal/jsonvalue"
)

// Step is one state change: the document before, the patch the diff emits
// (nil when nothing changed) and the document after.
type Step struct {
	Before, Patch, After json.RawMessage
}

type item struct {
	ID   int               `json:"id"`
	Tags []string          `json:"tags"`
	Meta map[string]string `json:"meta"`
}

type state struct {
	Items []item          `json:"items"`
	M     map[string]item `json:"m"`
	N     float64         `json:"n"`
	Any   any             `json:"any"`
}

// Steps returns n steps from the empty state, random with the seed: items
// appended, removed and changed, map members set and deleted, numbers and
// untyped values replaced; keys include "/", "~" and "".
func Steps(seed1, seed2 uint64, n int) ([]Step, error) {
	typ, err := jsonvalue.TypeOf(reflect.TypeFor[state]())
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(seed1, seed2))
	word := func() string { return []string{"a", "b/c", "d~e", ""}[r.IntN(4)] }
	var server state
	before, err := jsonvalue.Marshal(server)
	if err != nil {
		return nil, err
	}
	var p jsonvalue.Patch
	steps := make([]Step, 0, n)
	for step := range n {
		var next state
		jsonvalue.Clone(reflect.ValueOf(&next).Elem(), reflect.ValueOf(server))
		for range 1 + r.IntN(3) {
			change(r, &next, step, word)
		}
		p.Reset()
		if err := typ.Diff(&p, reflect.ValueOf(server), reflect.ValueOf(next)); err != nil {
			return nil, err
		}
		after, err := jsonvalue.Marshal(next)
		if err != nil {
			return nil, err
		}
		s := Step{Before: before, After: after}
		if p.Len() > 0 {
			s.Patch = append(json.RawMessage(nil), p.JSON()...)
		}
		steps = append(steps, s)
		server, before = next, after
	}
	return steps, nil
}

// change makes one random change to s.
func change(r *rand.Rand, s *state, step int, word func() string) {
	switch r.IntN(7) {
	case 0:
		s.Items = append(s.Items, item{ID: step, Tags: []string{word()}})
	case 1:
		if len(s.Items) > 0 {
			i := r.IntN(len(s.Items))
			s.Items = append(s.Items[:i], s.Items[i+1:]...)
		}
	case 2:
		if len(s.Items) > 0 {
			it := &s.Items[r.IntN(len(s.Items))]
			it.Tags = append(it.Tags, word())
			if it.Meta == nil {
				it.Meta = map[string]string{}
			}
			it.Meta[word()] = word()
		}
	case 3:
		if s.M == nil {
			s.M = map[string]item{}
		}
		s.M[word()] = item{ID: r.IntN(5)}
	case 4:
		delete(s.M, word())
	case 5:
		s.N = float64(r.IntN(100)) / 4
	case 6:
		s.Any = map[string]any{word(): []any{float64(r.IntN(3)), word()}}
	}
}
