package natsstore

import (
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

func sampleLogWithCalls() *logMsg {
	m := sampleLog()
	m.snapshot.Calls = []zocket.CallRecord{{Key: "c1\x00\"r1\"", Result: json.RawMessage(`{"n":1}`)}}
	m.records[1].Calls = []zocket.CallRecord{
		{Key: "c1\x00\"r2\"", Error: "not your turn"},
		{Key: "c2\x00 3", Result: json.RawMessage{}},
	}
	return m
}

func TestLogMessage_WithCallsRoundTrips(t *testing.T) {
	m := sampleLogWithCalls()
	b := m.encode()
	require.NotZero(t, b[1]&flagCalls)
	got, err := decodeLog(b)
	require.NoError(t, err)
	require.Equal(t, m.snapshot.Calls, got.snapshot.Calls)
	require.Equal(t, m.records, got.records, "nil and empty results stay apart")
	for n := range len(b) {
		_, err := decodeLog(b[:n])
		require.Error(t, err, "first %d of %d bytes", n, len(b))
	}
}

// A message without calls is laid out as before calls were stored, so
// that the messages already in a stream decode as they did.
func TestLogMessage_WithoutCallsKeepsTheEarlierLayout(t *testing.T) {
	const before = "02030402000b7b2261223a223c263e227d0203025b5d245b7b226f70223a22616464222c2270617468223a222f62222c" +
		"2276616c7565223a317d5d0301b7a8c30dff93ebdc03016d037b7d0280c2b5ce7c0105c3bc6ec3af0003ffdb8ff9ce03000001"
	b, err := hex.DecodeString(before)
	require.NoError(t, err)
	require.Equal(t, before, hex.EncodeToString(sampleLog().encode()))
	m, err := decodeLog(b)
	require.NoError(t, err)
	require.Empty(t, m.snapshot.Calls)
	for _, r := range m.records {
		require.Empty(t, r.Calls)
	}
}
