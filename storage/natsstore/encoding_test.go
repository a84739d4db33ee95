package natsstore

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

func sampleLog() *logMsg {
	return &logMsg{
		version:  4,
		snapshot: &zocket.Snapshot{Version: 2, State: json.RawMessage(`{"a":"<&>"}`)},
		records: []zocket.Record{
			{Version: 3, Patch: json.RawMessage(`[]`)},
			{Version: 4, Patch: json.RawMessage(`[{"op":"add","path":"/b","value":1}]`)},
		},
		hasAlarms: true,
		alarms: []zocket.Alarm{
			{ID: 1, At: time.Date(1969, 7, 20, 20, 17, 40, 999_999_999, time.UTC), Method: "m", Input: json.RawMessage(`{}`)},
			{ID: 2, At: time.Date(2500, 1, 1, 0, 0, 0, 1, time.UTC), Method: "ünï"},
			{ID: 3, Input: json.RawMessage{}},
		},
	}
}

func TestLogMessage_RoundTripsByteForByte(t *testing.T) {
	m := sampleLog()
	got, err := decodeLog(m.encode())
	require.NoError(t, err)
	require.Equal(t, m.version, got.version)
	require.Equal(t, *m.snapshot, *got.snapshot, "JSON is kept as is, not re-encoded")
	require.Equal(t, m.records, got.records)
	require.True(t, got.hasAlarms)
	require.Len(t, got.alarms, len(m.alarms))
	for i, a := range m.alarms {
		require.Equal(t, a.ID, got.alarms[i].ID)
		require.True(t, a.At.Equal(got.alarms[i].At), "alarm %d at %v, got %v", i, a.At, got.alarms[i].At)
		require.Equal(t, a.Method, got.alarms[i].Method)
		require.Equal(t, a.Input, got.alarms[i].Input, "nil and empty inputs stay apart")
	}
}

func TestLogMessage_TruncatedOrExtended_IsAnError(t *testing.T) {
	b := sampleLog().encode()
	for n := range len(b) {
		_, err := decodeLog(b[:n])
		require.Error(t, err, "first %d of %d bytes", n, len(b))
	}
	_, err := decodeLog(append(b, 0))
	require.Error(t, err)
}

func TestLogMessage_WhoseVersionDisagreesWithItsRecords_IsAnError(t *testing.T) {
	m := sampleLog()
	m.version = 9
	_, err := decodeLog(m.encode())
	require.Error(t, err)
}

func TestToken_IsOneSubjectTokenAndRoundTrips(t *testing.T) {
	for _, s := range []string{"", ".", "*", ">", "a.b", "with space", "\x00", "ünïcödé 🎲", "_", "-"} {
		tok := token(s)
		require.False(t, strings.ContainsAny(tok, ".*> \t\r\n"), "%q -> %q", s, tok)
		require.NotEmpty(t, tok)
		back, err := untoken(tok)
		require.NoError(t, err)
		require.Equal(t, s, back)
	}
}
