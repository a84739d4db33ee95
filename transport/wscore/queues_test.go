package wscore_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/zocket-go/zocket/transport/wscore"
)

func TestQueueStats_AddSumsQueuesAndKeepsTheLargest(t *testing.T) {
	var a, b, empty wscore.Backlog
	a.Add(10)
	a.Add(20)
	b.Add(100)
	var q wscore.QueueStats
	for _, bl := range []*wscore.Backlog{&a, &b, &empty} {
		q.Add(bl.Len())
	}
	assert.Equal(t, wscore.QueueStats{Conns: 3, Frames: 3, Bytes: 130, MaxFrames: 2, MaxBytes: 100}, q)
}

func TestQueueStats_MergeAddsTotalsAndKeepsTheLargerMaxima(t *testing.T) {
	q := wscore.QueueStats{Conns: 2, Frames: 5, Bytes: 50, MaxFrames: 4, MaxBytes: 10}
	q.Merge(wscore.QueueStats{Conns: 1, Frames: 1, Bytes: 40, MaxFrames: 1, MaxBytes: 40})
	assert.Equal(t, wscore.QueueStats{Conns: 3, Frames: 6, Bytes: 90, MaxFrames: 4, MaxBytes: 40}, q)
}
