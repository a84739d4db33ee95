package zocket

import (
	"context"
	"encoding/json"
	"reflect"
	"time"

	"github.com/zocket-go/zocket/internal/jsonvalue"
	"github.com/zocket-go/zocket/protocol"
)

// DefaultStreamInterval is the flush interval of a streaming method
// declared with Streaming(0).
const DefaultStreamInterval = 50 * time.Millisecond

// Streaming marks the method as streaming: while it runs, Context.Flush
// publishes its state so far to state subscribers, at most once per
// interval (≤ 0: DefaultStreamInterval), and the return publishes the rest.
//
// A flush commits: the state subscribers see, and a new subscriber's
// snapshot, include the flushed changes, and the events emitted before the
// flush go out with it. So a streaming method is atomic only between
// flushes: if it fails after one, what was flushed stays.
func (m *MethodDef[S, C, I, O]) Streaming(interval time.Duration) *MethodDef[S, C, I, O] {
	if interval <= 0 {
		interval = DefaultStreamInterval
	}
	m.streamEvery = interval
	return m
}

func (m *MethodDef[S, C, I, O]) streaming() time.Duration { return m.streamEvery }

// Flush publishes the draft so far, if the method is streaming and its
// interval has passed since the last flush; otherwise it does nothing.
// Call it from the handler's goroutine at points where the state is
// consistent (between tokens, steps, rows); never from another goroutine.
func (c *Context[S, C]) Flush() {
	sc := c.sc
	if sc.streamGap == 0 || sc.closed || !sc.draft.IsValid() {
		return
	}
	now := time.Now()
	if !sc.lastFlush.IsZero() && now.Sub(sc.lastFlush) < sc.streamGap {
		return
	}
	sc.lastFlush = now
	if adoptState(sc.draft, c.State) != nil {
		return // the return reports it
	}
	sc.inst.flushDraft(sc)
}

// flushDraft commits a copy of the running call's draft (the call goes on
// with its own draft), sends its patch and events, and wakes the writers.
func (in *instance) flushDraft(sc *turn) {
	snap := reflect.New(sc.draft.Type().Elem())
	if in.spare.IsValid() {
		jsonvalue.Recycle(snap.Elem(), sc.draft.Elem(), in.spare.Elem())
		in.spare = reflect.Value{}
	} else {
		jsonvalue.Clone(snap.Elem(), sc.draft.Elem())
	}
	before := in.version // written by the mailbox only
	in.spare = in.commit(snap)
	sc.flushed = sc.flushed || (in.dur != nil && in.version != before)
	in.dispatch(sc.events)
	sc.events = nil
	in.seal()
	in.out.flushAll()
}

// SendChunk sends a partial result to the caller as an rpc:stream frame
// ({"type":"rpc:stream","id":…,"chunk":…}) ahead of the final rpc:result.
// Chunks go out at once, in order. A caller that is gone, or a server-side
// Invoke without WithChunks, drops them without error. Clients that do not
// know rpc:stream (the TS client) ignore the frames and still get the
// result.
func (c *Context[S, C]) SendChunk(chunk any) error {
	sc := c.sc
	data, err := jsonvalue.Marshal(chunk)
	if err != nil {
		return err
	}
	if sc.chunks != nil {
		sc.chunks(data)
	}
	if sc.conn == nil {
		return nil
	}
	frame := protocol.AppendStream(nil, sc.rpcID, data)
	if f, ok := sc.conn.(Flusher); ok {
		if f.Queue(frame) == nil {
			flushNow(f)
		}
		return nil
	}
	_ = sc.conn.Send(frame)
	return nil
}

type chunksKey struct{}

// WithChunks returns a context that makes App.Invoke (and MethodDef.Invoke)
// hand the method's SendChunk chunks to fn, on the method's goroutine,
// before the result.
func WithChunks(ctx context.Context, fn func(chunk json.RawMessage)) context.Context {
	return context.WithValue(ctx, chunksKey{}, fn)
}
