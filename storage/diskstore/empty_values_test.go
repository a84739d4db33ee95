package diskstore

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

// An empty alarm input or call result reads back empty, not as none, as
// it does from the other stores.
func TestLoad_KeepsEmptyInputsAndResultsApartFromNone(t *testing.T) {
	s := openStore(t)
	writeOne(t, s, zocket.Write{Actor: "room", ID: "r",
		Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{}`),
			Calls: []zocket.CallRecord{{Key: "empty", Result: json.RawMessage{}}, {Key: "none"}}},
		SetAlarms: true, Alarms: []zocket.Alarm{{ID: 1, Input: json.RawMessage{}}, {ID: 2}}})

	st, err := s.Load(t.Context(), "room", "r")
	require.NoError(t, err)
	require.NotNil(t, st.Snapshot.Calls[0].Result)
	require.Nil(t, st.Snapshot.Calls[1].Result)
	require.NotNil(t, st.Alarms[0].Input)
	require.Nil(t, st.Alarms[1].Input)
}
