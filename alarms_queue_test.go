package zocket

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An instance that moves an alarm at every call (a reminder pushed back by
// each message), behind an earlier one that stays, must not leave one
// entry per move in the clock's queue until the old times come.
func TestAlarmClock_RescheduledAndCancelledAlarmsDoNotPileUpInTheQueue(t *testing.T) {
	c := &alarmClock{seeded: true}
	defer c.close()
	k := key{"reminder", "r1"}
	far := time.Now().Add(24 * time.Hour)
	for i := range 10_000 {
		later := far.Add(time.Hour + time.Duration(i)*time.Second)
		c.track(k, []Alarm{{ID: 1, At: far}, {ID: 2, At: later}, {ID: uint64(i + 3), At: later}}, time.Time{}) // moved, and a new one in place of the last
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	assert.Less(t, c.queue.Len(), 200, "dead entries are dropped once they outnumber the live ones")
	require.Positive(t, c.queue.Len())
	assert.True(t, c.liveLocked(c.queue[0]), "the earliest entry is a live one")
	assert.Equal(t, far, c.queue[0].at)
}
