package natsstore

import (
	"crypto/sha256"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReferenceMessage_RoundTripsAndKeepsTheRollup(t *testing.T) {
	m := sampleLog()
	ref := objectRef{name: "_cm9vbQ._YQ.4.0011223344556677", size: 123, digest: sha256.Sum256([]byte("body"))}
	b := refTo(m, ref).encode()
	got, err := decodeLog(b)
	require.NoError(t, err)
	require.Equal(t, &ref, got.ref)
	require.Equal(t, m.version, got.version)
	require.True(t, got.rollup, "a snapshot's reference rolls up the subject")
	require.True(t, got.hasAlarms)
	for n := range len(b) {
		_, err := decodeLog(b[:n])
		require.Error(t, err, "first %d of %d bytes", n, len(b))
	}
}
