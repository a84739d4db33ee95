// Package load drives a server that speaks the Zocket wire protocol and
// hosts the benchmark actors (counter, chat, big; see examples/bench) with
// the load of one scenario, and measures it. Every scenario reports its
// figures as Result lines; Summarize reduces result files to medians.
//
// The server must host, under exactly these names and JSON field names:
//
//   - counter, state {"count": 0}: increment() adds 1 and returns the new
//     count; add({"amount": n}) adds n and returns the new count.
//   - chat, state {"messages": []} of {"from", "text"}: send({"from",
//     "text"}) appends the message, emits event "message" with it and
//     returns {"n": <number of messages>}.
//   - big, state {"items": []} of {"id": number, "v": string}: seed({"n"})
//     replaces the items with n items {id: i, v: "x<i>"} and returns n;
//     touch({"i"}) gives items[i].v a new value and returns nothing (an
//     index out of range is an error); append() adds {id: len, v:
//     "x<len>"} and returns the new length.
//
// Each scenario is a struct of parameters whose Run method dials the
// server, runs the load and emits one Result (bigstate: one per state
// size). A run fails with an error only when it cannot take place (a dial,
// a subscription or a setup call failed); what went wrong during the
// measured load is counted in the figures (errors, losses).
package load

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Target is the server under test: its WebSocket URL and, when PID is
// set, its process id, whose CPU time (and, for IdleMem, resident memory)
// is read from /proc.
type Target struct {
	URL string
	PID int
}

// setup prepares connection i after its dial (subscribe, wait for a
// snapshot); handlerFor gives connection i its handler.
type (
	setup      func(i int, c *Conn) error
	handlerFor func(i int) Handler
)

// dialMany opens n connections, par at a time, and runs setup on each; on
// the first failure it closes them all.
func dialMany(ctx context.Context, url string, n, par int, h handlerFor, set setup) ([]*Conn, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	conns := make([]*Conn, n)
	sem := make(chan struct{}, max(par, 1))
	var wg sync.WaitGroup
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			var hi Handler
			if h != nil {
				hi = h(i)
			}
			c, err := Dial(ctx, url, hi)
			if err == nil && set != nil {
				if err = set(i, c); err != nil {
					c.Close()
				}
			}
			if err != nil {
				cancel(fmt.Errorf("connection %d: %w", i, err))
				return
			}
			conns[i] = c
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		closeAll(conns)
		return nil, err
	}
	return conns, nil
}

func closeAll(conns []*Conn) {
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}

// intResult decodes a result that is a JSON integer.
func intResult(raw json.RawMessage) (int64, bool) {
	v, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
	return v, err == nil
}

// waitClosed closes the connections and waits for their reader goroutines.
func waitClosed(conns []*Conn) {
	closeAll(conns)
	for _, c := range conns {
		if c != nil {
			<-c.Done()
		}
	}
}
