package codec

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

var (
	sampleAlarms = []zocket.Alarm{
		{ID: 1, At: time.Date(1969, 7, 20, 20, 17, 40, 999_999_999, time.UTC), Method: "m", Input: json.RawMessage(`{}`)},
		{ID: 300, At: time.Date(2500, 1, 1, 0, 0, 0, 1, time.UTC), Method: "ünï"},
		{ID: 3, At: time.Unix(0, 0).UTC(), Input: json.RawMessage{}},
	}
	sampleCalls = []zocket.CallRecord{
		{Key: "c1\x00\"r1\"", Result: json.RawMessage(`{"n":1}`)},
		{Key: "c1\x00\"r2\"", Error: "not your turn"},
		{Key: "c2\x00 3", Result: json.RawMessage{}},
	}
)

// The bytes are those the stores have persisted all along: changing them
// would make what is already on disk or in a stream unreadable.
func TestAppend_WritesThePersistedBytesOfEachLayout(t *testing.T) {
	cases := map[Optional]struct{ alarms, calls string }{
		LengthPlusOne: {
			alarms: "0301b7a8c30dff93ebdc03016d037b7dac0280c2b5ce7c0105c3bc6ec3af0003" + "00000001",
			calls:  "030763310022723122087b226e223a317d000763310022723222000d6e6f7420796f7572207475726e0563320020330100",
		},
		PresenceByte: {
			alarms: "0301b7a8c30dff93ebdc03016d01027b7dac0280c2b5ce7c0105c3bc6ec3af0003" + "0000000100",
			calls:  "03076331002272312201077b226e223a317d000763310022723222000d6e6f7420796f7572207475726e056332002033010000",
		},
	}
	for o, want := range cases {
		require.Equal(t, want.alarms, hex.EncodeToString(AppendAlarms(nil, sampleAlarms, o)), "layout %d", o)
		require.Equal(t, want.calls, hex.EncodeToString(AppendCalls(nil, sampleCalls, o)), "layout %d", o)
	}
}

func TestDecoder_ReadsBackWhatAppendWrote_KeepingNilAndEmptyApart(t *testing.T) {
	for _, o := range []Optional{LengthPlusOne, PresenceByte} {
		b := AppendCalls(AppendAlarms([]byte("prefix"), sampleAlarms, o), sampleCalls, o)
		d := NewDecoder(b[len("prefix"):])
		alarms, calls := d.Alarms(o), d.Calls(o)
		require.NoError(t, d.End())
		require.Equal(t, sampleAlarms, alarms, "layout %d", o)
		require.Equal(t, sampleCalls, calls, "layout %d", o)
		require.Nil(t, alarms[1].Input)
		require.NotNil(t, alarms[2].Input)
	}
}

func TestDecoder_OfAnEmptyListReturnsNil(t *testing.T) {
	d := NewDecoder([]byte{0, 0})
	require.Nil(t, d.Alarms(PresenceByte))
	require.Nil(t, d.Calls(PresenceByte))
	require.NoError(t, d.End())
}

func TestDecoder_OfTruncatedOrExtendedListsFails(t *testing.T) {
	for _, o := range []Optional{LengthPlusOne, PresenceByte} {
		lists := map[string]struct {
			b    []byte
			read func(*Decoder)
		}{
			"alarms": {AppendAlarms(nil, sampleAlarms, o), func(d *Decoder) { d.Alarms(o) }},
			"calls":  {AppendCalls(nil, sampleCalls, o), func(d *Decoder) { d.Calls(o) }},
		}
		for name, l := range lists {
			end := func(b []byte) error {
				d := NewDecoder(b)
				l.read(&d)
				return d.End()
			}
			require.NoError(t, end(l.b))
			for n := range len(l.b) {
				require.Error(t, end(l.b[:n]), "%s in layout %d, first %d of %d bytes", name, o, n, len(l.b))
			}
			require.ErrorContains(t, end(append(l.b, 0)), "1 bytes after the end")
		}
	}
}

func TestDecoder_RefusesCorruptValuesWithoutPanicOrLargeAllocation(t *testing.T) {
	huge := binary.AppendUvarint(nil, math.MaxUint64)
	cases := map[string]struct {
		b    []byte
		read func(*Decoder)
	}{
		"huge alarm count":     {append(huge, 1, 2, 3), func(d *Decoder) { d.Alarms(PresenceByte) }},
		"large alarm count":    {binary.AppendUvarint(nil, 1<<20), func(d *Decoder) { d.Alarms(PresenceByte) }},
		"large call count":     {binary.AppendUvarint(nil, 1<<20), func(d *Decoder) { d.Calls(PresenceByte) }},
		"huge call count":      {append(huge, 1, 2, 3), func(d *Decoder) { d.Calls(LengthPlusOne) }},
		"huge byte length":     {append(huge, 1, 2, 3), func(d *Decoder) { d.Bytes() }},
		"huge optional length": {append(huge, 1, 2, 3), func(d *Decoder) { d.Optional(LengthPlusOne) }},
		"length past the end":  {[]byte{4, 1, 2, 3}, func(d *Decoder) { d.Bytes() }},
		"bad varint":           {[]byte{0xff, 0xff}, func(d *Decoder) { d.Varint() }},
		"presence byte 2":      {[]byte{2, 0}, func(d *Decoder) { d.Optional(PresenceByte) }},
		"a second of nanoseconds": {
			binary.AppendUvarint([]byte{1, 1, 0}, uint64(time.Second)),
			func(d *Decoder) { d.Alarms(LengthPlusOne) },
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			d := NewDecoder(c.b)
			c.read(&d)
			runtime.ReadMemStats(&after)
			require.Error(t, d.End())
			require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<10), "bytes allocated")
		})
	}
}

func TestDecoder_KeepsTheFirstError(t *testing.T) {
	d := NewDecoder([]byte{5})
	require.Nil(t, d.Bytes())
	require.ErrorIs(t, d.Err(), ErrShort)
	require.Zero(t, d.Uvarint())
	require.Nil(t, d.Take(0))
	require.ErrorIs(t, d.End(), ErrShort)
}

func TestTake_CapsTheCapacitySoAppendsCannotOverwriteTheRest(t *testing.T) {
	d := NewDecoder([]byte("abcd"))
	p := d.Take(2)
	_ = append(p, 'x')
	require.Equal(t, []byte("cd"), d.Take(2))
	require.NoError(t, d.End())
}
