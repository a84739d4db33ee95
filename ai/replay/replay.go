// Package replay is an ai.Provider that replays scripted model turns, at a
// chosen pace: for tests, demos and running an agent with no model behind
// it.
package replay

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/zocket-go/zocket/ai"
)

// ErrExhausted is the error of a turn that Script has no answer for.
var ErrExhausted = errors.New("replay: script exhausted")

// ErrNoRespond is the error of Stream on a Provider without Respond.
var ErrNoRespond = errors.New("replay: Provider.Respond is not set")

// Turn is one scripted model turn: its events, then Err (nil: the turn
// ends normally).
type Turn struct {
	Events []ai.Event
	Err    error
	// Hold, if not nil, stalls the turn before event HoldAt (or before its
	// end, if HoldAt is len(Events)) until Hold is closed or the turn's
	// context is done: a model gone silent, for tests.
	Hold   <-chan struct{}
	HoldAt int
}

// Provider replays turns. Set Respond: without it Stream fails with
// ErrNoRespond.
type Provider struct {
	// Respond returns the turn answering req.
	Respond func(req ai.Request) Turn
	// Pace is the delay before each event.
	Pace time.Duration

	mu   sync.Mutex
	reqs []ai.Request
}

// Script answers the n-th request with turns[n], and later ones with
// ErrExhausted.
func Script(turns ...Turn) *Provider {
	var mu sync.Mutex
	n := 0
	return &Provider{Respond: func(ai.Request) Turn {
		mu.Lock()
		defer mu.Unlock()
		if n >= len(turns) {
			return Turn{Err: ErrExhausted}
		}
		n++
		return turns[n-1]
	}}
}

// Answer is a turn answering text: a delta per word (with the space before
// it), a usage report and FinishStop.
func Answer(text string) Turn {
	var evs []ai.Event
	for i, w := range strings.Fields(text) {
		if i > 0 {
			w = " " + w
		}
		evs = append(evs, ai.Event{Type: ai.TextDelta, Text: w})
	}
	evs = append(evs,
		ai.Event{Type: ai.UsageReport, Usage: ai.Usage{InputTokens: 10, OutputTokens: int64(len(evs))}},
		ai.Event{Type: ai.Finished, FinishReason: ai.FinishStop})
	return Turn{Events: evs}
}

// Calls is a turn calling tools, then FinishToolCalls.
func Calls(calls ...ai.ToolCall) Turn {
	var evs []ai.Event
	for _, c := range calls {
		evs = append(evs, ai.Event{Type: ai.ToolCallDone, ToolCall: c})
	}
	evs = append(evs, ai.Event{Type: ai.Finished, FinishReason: ai.FinishToolCalls})
	return Turn{Events: evs}
}

// Requests returns the requests received so far.
func (p *Provider) Requests() []ai.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]ai.Request(nil), p.reqs...)
}

// Stream implements ai.Provider.
func (p *Provider) Stream(ctx context.Context, req ai.Request) (ai.Stream, error) {
	if p.Respond == nil {
		return nil, ErrNoRespond
	}
	p.mu.Lock()
	p.reqs = append(p.reqs, req)
	p.mu.Unlock()
	return &stream{ctx: ctx, turn: p.Respond(req), pace: p.Pace}, nil
}

type stream struct {
	ctx  context.Context
	turn Turn
	pace time.Duration
	next int
}

func (s *stream) Next() (ai.Event, error) {
	if err := s.wait(); err != nil {
		return ai.Event{}, err
	}
	if s.turn.Hold != nil && s.next == s.turn.HoldAt {
		select {
		case <-s.turn.Hold:
			s.turn.Hold = nil
		case <-s.ctx.Done():
			return ai.Event{}, s.ctx.Err()
		}
	}
	if s.next < len(s.turn.Events) {
		s.next++
		return s.turn.Events[s.next-1], nil
	}
	if s.turn.Err != nil {
		return ai.Event{}, s.turn.Err
	}
	return ai.Event{}, io.EOF
}

func (s *stream) wait() error {
	if s.pace <= 0 {
		return s.ctx.Err()
	}
	t := time.NewTimer(s.pace)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}

func (s *stream) Close() error { return nil }
