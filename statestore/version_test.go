package statestore_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/statestore"
)

// versioned returns a Store holding {"n":0} at version 5 of epoch "e1".
func versioned(t *testing.T) *statestore.Store {
	t.Helper()
	s := statestore.New()
	require.NoError(t, s.ApplyVersionedSnapshot([]byte(`{"n":0}`), 5, "e1"))
	return s
}

func requireVersion(t *testing.T, s *statestore.Store, version uint64, epoch string) {
	t.Helper()
	v, e, ok := s.Version()
	require.True(t, ok, "version known")
	assert.Equal(t, version, v)
	assert.Equal(t, epoch, e)
}

func TestVersion_UnknownUntilAVersionedSnapshot(t *testing.T) {
	s := statestore.New()
	_, _, ok := s.Version()
	assert.False(t, ok, "empty store")
	require.NoError(t, s.ApplySnapshot([]byte(`{}`)))
	_, _, ok = s.Version()
	assert.False(t, ok, "unversioned snapshot")
	require.NoError(t, s.ApplyVersionedSnapshot([]byte(`{"n":0}`), 5, "e1"))
	requireVersion(t, s, 5, "e1")
}

func TestVersionedPatch_AppliesOnlyTheNextVersion(t *testing.T) {
	s := versioned(t)
	out, err := s.ApplyVersionedPatch(ops(t, `[{"op":"replace","path":"/n","value":6}]`), 6, "e1")
	require.NoError(t, err)
	assert.Equal(t, statestore.Applied, out)
	requireVersion(t, s, 6, "e1")
	assert.JSONEq(t, `{"n":6}`, jsonOf(t, s))
}

func TestVersionedPatch_IgnoresADuplicate(t *testing.T) {
	s := versioned(t)
	for _, v := range []uint64{5, 4, 0} {
		out, err := s.ApplyVersionedPatch(ops(t, `[{"op":"replace","path":"/n","value":99}]`), v, "e1")
		require.NoError(t, err)
		assert.Equal(t, statestore.Duplicate, out, "version %d", v)
	}
	requireVersion(t, s, 5, "e1")
	assert.JSONEq(t, `{"n":0}`, jsonOf(t, s))
}

func TestVersionedPatch_RefusesAGapOrAnotherEpoch(t *testing.T) {
	s := versioned(t)
	calls := 0
	s.Subscribe(func(any) { calls++ })
	for _, p := range []struct {
		version uint64
		epoch   string
	}{{7, "e1"}, {6, "e2"}, {1, "e2"}} {
		out, err := s.ApplyVersionedPatch(ops(t, `[{"op":"replace","path":"/n","value":99}]`), p.version, p.epoch)
		require.NoError(t, err)
		assert.Equal(t, statestore.Gap, out, "%+v", p)
	}
	requireVersion(t, s, 5, "e1")
	assert.JSONEq(t, `{"n":0}`, jsonOf(t, s))
	assert.Equal(t, 1, calls, "only the initial call: nothing changed")
}

func TestVersionedPatch_OnAStateWithoutVersionIsAGap(t *testing.T) {
	s := statestore.New()
	require.NoError(t, s.ApplySnapshot([]byte(`{"n":0}`)))
	out, err := s.ApplyVersionedPatch(ops(t, `[{"op":"replace","path":"/n","value":1}]`), 1, "e1")
	require.NoError(t, err)
	assert.Equal(t, statestore.Gap, out)
	assert.JSONEq(t, `{"n":0}`, jsonOf(t, s))
}

func TestVersionedPatch_BeforeAnySnapshotIsIgnored(t *testing.T) {
	s := statestore.New()
	out, err := s.ApplyVersionedPatch(ops(t, `[{"op":"add","path":"/n","value":1}]`), 1, "e1")
	require.NoError(t, err)
	assert.Equal(t, statestore.Ignored, out)
	_, has := s.State()
	assert.False(t, has)
}

func TestVersionedPatch_ThatFailsForgetsTheVersion(t *testing.T) {
	s := versioned(t)
	out, err := s.ApplyVersionedPatch(ops(t, `[{"op":"replace","path":"/missing","value":1}]`), 6, "e1")
	require.ErrorIs(t, err, statestore.ErrPatch)
	assert.Equal(t, statestore.Ignored, out)
	assert.JSONEq(t, `{"n":0}`, jsonOf(t, s))
	_, _, ok := s.Version()
	assert.False(t, ok, "the state no longer follows the history")
}

func TestVersion_ForgottenByUnversionedSnapshotAndPatch(t *testing.T) {
	s := versioned(t)
	_, err := s.ApplyPatch(ops(t, `[{"op":"replace","path":"/n","value":1}]`))
	require.NoError(t, err)
	_, _, ok := s.Version()
	assert.False(t, ok, "after an unversioned patch")

	s = versioned(t)
	require.NoError(t, s.ApplySnapshot([]byte(`{"n":1}`)))
	_, _, ok = s.Version()
	assert.False(t, ok, "after an unversioned snapshot")
}

func TestVersionedSnapshot_ReplacesStateAndVersionWhateverTheEpoch(t *testing.T) {
	s := versioned(t)
	require.NoError(t, s.ApplyVersionedSnapshot([]byte(`{"n":2}`), 2, "e2"))
	requireVersion(t, s, 2, "e2")
	assert.JSONEq(t, `{"n":2}`, jsonOf(t, s))
	out, err := s.ApplyVersionedPatch(ops(t, `[{"op":"replace","path":"/n","value":3}]`), 3, "e2")
	require.NoError(t, err)
	assert.Equal(t, statestore.Applied, out)
}
