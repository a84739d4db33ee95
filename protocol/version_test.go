package protocol_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/protocol"
)

func TestVersion_OnSnapshotPatchAndSubRoundTrips(t *testing.T) {
	frames := [][]byte{
		protocol.AppendVersion(protocol.AppendSnapshot(nil, "a", "1", []byte(`{"n":1}`)), 7, "e1"),
		protocol.AppendVersion(protocol.AppendPatch(nil, "a", "1", []byte(`[]`)), 8, "e1"),
		protocol.AppendResume(nil, "a", "1", 8, "e1"),
	}
	for i, f := range frames {
		m, err := protocol.Parse(f)
		require.NoError(t, err, "%s", f)
		require.True(t, m.HasVersion, "%s", f)
		require.EqualValues(t, 7+min(i, 1), m.Version, "%s", f)
		require.Equal(t, "e1", m.Epoch)
	}
	require.JSONEq(t, `{"type":"state:sub","actor":"a","actorId":"1","version":8,"epoch":"e1"}`, string(frames[2]))
}

func TestVersion_AbsentOrMalformedIsIgnored(t *testing.T) {
	for _, f := range []string{
		`{"type":"state:sub","actor":"a","actorId":"1"}`,
		`{"type":"state:sub","actor":"a","actorId":"1","version":"7"}`,
		`{"type":"state:sub","actor":"a","actorId":"1","version":-1}`,
		`{"type":"state:sub","actor":"a","actorId":"1","version":1.5}`,
		`{"type":"state:sub","actor":"a","actorId":"1","version":null}`,
	} {
		m, err := protocol.Parse([]byte(f))
		require.NoError(t, err, f)
		require.False(t, m.HasVersion, f)
		require.Zero(t, m.Version, f)
	}
}
