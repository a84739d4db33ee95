package poll

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestUntil_ReturnsOnceTheConditionHolds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		checks := 0
		start := time.Now()
		Until(t, func() bool { checks++; return checks == 3 }, "third check")
		assert.Equal(t, 3, checks)
		assert.Equal(t, 2*interval, time.Since(start), "one interval between checks")
	})
}

func TestWait_GivesUpAfterTheDeadlineWithTheLastError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errNo := errors.New("not yet")
		start := time.Now()
		err := Wait(context.Background(), time.Second, func() (bool, error) { return false, errNo })
		assert.ErrorIs(t, err, errNo)
		assert.Equal(t, time.Second, time.Since(start))

		err = Wait(context.Background(), time.Second, func() (bool, error) { return false, nil })
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

func TestWait_StopsWhenTheContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := Wait(ctx, Deadline, func() (bool, error) { return false, nil })
		assert.ErrorIs(t, err, context.Canceled)
	})
}
