// Package pull is the queue between an SDK's stream and ai.Stream.Next: a
// provider decodes SDK events into zero or more ai events, and Next hands
// them out one by one.
package pull

import (
	"io"

	"github.com/zocket-go/zocket/ai"
)

// Queue holds decoded events not yet returned.
type Queue struct {
	pending []ai.Event
	ended   bool
}

// Push queues events.
func (q *Queue) Push(evs ...ai.Event) { q.pending = append(q.pending, evs...) }

// End queues the last events: after them, Next returns io.EOF. Later
// calls do nothing.
func (q *Queue) End(evs ...ai.Event) {
	if q.ended {
		return
	}
	q.ended = true
	q.Push(evs...)
}

// Next returns the next event, calling fill (which reads the SDK's stream
// and calls Push or End) while none is queued.
func (q *Queue) Next(fill func() error) (ai.Event, error) {
	for len(q.pending) == 0 {
		if q.ended {
			return ai.Event{}, io.EOF
		}
		if err := fill(); err != nil {
			return ai.Event{}, err
		}
	}
	ev := q.pending[0]
	q.pending = q.pending[1:]
	return ev, nil
}
