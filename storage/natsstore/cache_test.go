package natsstore

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStore_RemembersAtMostCachedInstances(t *testing.T) {
	s := &Store{opts: Options{CachedInstances: 2}, known: map[instanceKey]known{}}
	for _, id := range []string{"a", "b", "c"} {
		s.remember(instanceKey{"room", id}, known{seq: 1})
	}
	require.Len(t, s.known, 2)
	_, ok := s.lookup(instanceKey{"room", "c"})
	require.True(t, ok, "the latest is kept")
}

func TestStore_RemembersNoOlderMessageThanItKnows(t *testing.T) {
	s := &Store{opts: Options{CachedInstances: 10}, known: map[instanceKey]known{}}
	k := instanceKey{"room", "a"}
	s.remember(k, known{seq: 9, version: 5})
	s.remember(k, known{seq: 4, version: 3}) // a Load that read the log before the Write
	kn, _ := s.lookup(k)
	require.EqualValues(t, 5, kn.version)
}
