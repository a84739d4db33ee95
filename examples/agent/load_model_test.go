package main

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/zocket-go/zocket/ai"
)

// tokenWidth is the length of every delta of a load run: "~" and five
// digits, its number. A subscriber reads how far the answer has grown from
// the last "~" in a frame, without decoding the frame; nothing else in the
// state holds a "~".
const tokenWidth = 6

// loadModel is a scripted model for the load benchmark. Until a load is
// armed it answers "ok" at once (to fill a conversation with earlier
// messages); an armed load answers its deltas on a fixed schedule (delta i
// at start + i×every: one that is late goes out at once, so the average
// rate holds when the server falls behind for a moment, as a model's
// stream read late from TCP would) and records when it emitted each one.
type loadModel struct {
	load atomic.Pointer[load]
}

// load is one paced answer: tokens[i] is emitted at emitted[i] (Unix
// nanoseconds, comparable across processes on one machine).
type load struct {
	tokens  []string
	every   time.Duration
	emitted []int64
}

func newLoad(deltas int, rate float64) *load {
	l := &load{tokens: make([]string, deltas), every: time.Duration(float64(time.Second) / rate), emitted: make([]int64, deltas)}
	for i := range l.tokens {
		l.tokens[i] = fmt.Sprintf("~%05d", i+1)
	}
	return l
}

func (m *loadModel) Stream(ctx context.Context, _ ai.Request) (ai.Stream, error) {
	l := m.load.Swap(nil)
	if l == nil {
		return &loadStream{ctx: ctx, load: &load{tokens: []string{"ok"}, emitted: make([]int64, 1)}}, nil
	}
	return &loadStream{ctx: ctx, load: l, start: time.Now(), timer: time.NewTimer(0)}, nil
}

type loadStream struct {
	ctx   context.Context
	load  *load
	start time.Time
	timer *time.Timer // nil: no pacing
	next  int
	done  bool
}

func (s *loadStream) Next() (ai.Event, error) {
	if s.next == len(s.load.tokens) {
		if s.done {
			return ai.Event{}, io.EOF
		}
		s.done = true
		return ai.Event{Type: ai.Finished, FinishReason: ai.FinishStop}, nil
	}
	if s.timer != nil {
		if err := s.wait(time.Until(s.start.Add(time.Duration(s.next) * s.load.every))); err != nil {
			return ai.Event{}, err
		}
	}
	s.load.emitted[s.next] = time.Now().UnixNano()
	s.next++
	return ai.Event{Type: ai.TextDelta, Text: s.load.tokens[s.next-1]}, nil
}

// wait waits d, if positive.
func (s *loadStream) wait(d time.Duration) error {
	if d <= 0 {
		return s.ctx.Err()
	}
	s.timer.Reset(d)
	select {
	case <-s.timer.C:
		return nil
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}

func (s *loadStream) Close() error {
	if s.timer != nil {
		s.timer.Stop()
	}
	return nil
}
