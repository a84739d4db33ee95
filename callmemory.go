package zocket

import (
	"bytes"
	"encoding/json"
	"reflect"
)

// Exactly-once calls for durable actors. A transport that delivers a
// call at least once (the distributed mode redelivers a call whose
// runtime died before it acknowledged it) may hand the same call to an
// App again, maybe another process's, after its changes were stored. So
// that the method does not run twice, a durable instance stores the
// answer of each rpc call from a connection in the same Write as the
// changes the call made (Record.Calls), and keeps the answers of its
// last calls in memory, rebuilt from the Storage when it activates. A
// call whose key (connection id and rpc id) is among them is answered as
// it was the first time, without running.
//
// Only calls that wrote something are remembered: a read-only call runs
// again when repeated, which changes nothing. Calls without a connection
// (App.Invoke, Tells, timers, alarms) are not remembered.

// DefaultCallMemory is how many recent calls a durable instance remembers
// (WithCallMemory).
const DefaultCallMemory = 256

// WithCallMemory sets how many of its most recent state-changing calls a
// durable instance remembers, to answer them again without running them
// when a transport delivers them twice (default DefaultCallMemory); 0
// turns it off. The answers are stored with the changes, so each call
// writes its connection id, rpc id and result bytes as well: keep
// results small.
func WithCallMemory(n int) Option { return func(a *App) { a.callMemory = max(n, 0) } }

// callKey is the key of a call from connection connID with rpc id id.
func callKey(connID string, id json.RawMessage) string {
	return connID + "\x00" + string(id)
}

// callTable is an instance's recent calls, oldest first, bounded: when
// full, a new call replaces the oldest. Mailbox only.
type callTable struct {
	max   int
	ring  []CallRecord
	start int // index of the oldest in ring
	byKey map[string]int
}

// reset empties t and bounds it to n calls.
func (t *callTable) reset(n int) {
	*t = callTable{max: n}
}

// add remembers c, forgetting the oldest call if t is full.
func (t *callTable) add(c CallRecord) {
	if t.max == 0 {
		return
	}
	if t.byKey == nil {
		t.byKey = make(map[string]int, min(t.max, 16))
	}
	if i, ok := t.byKey[c.Key]; ok {
		t.ring[i] = c
		return
	}
	if len(t.ring) < t.max {
		t.byKey[c.Key] = len(t.ring)
		t.ring = append(t.ring, c)
		return
	}
	delete(t.byKey, t.ring[t.start].Key)
	t.ring[t.start] = c
	t.byKey[c.Key] = t.start
	t.start = (t.start + 1) % len(t.ring)
}

// get returns the call with key k.
func (t *callTable) get(k string) (CallRecord, bool) {
	i, ok := t.byKey[k]
	if !ok {
		return CallRecord{}, false
	}
	return t.ring[i], true
}

// list returns the calls, oldest first, for a snapshot.
func (t *callTable) list() []CallRecord {
	if len(t.ring) == 0 {
		return nil
	}
	out := make([]CallRecord, 0, len(t.ring))
	out = append(out, t.ring[t.start:]...)
	return append(out, t.ring[:t.start]...)
}

// loadCalls rebuilds the table of recent calls from what is stored.
// Mailbox only.
func (d *durable) loadCalls(n int, st *Stored) {
	d.calls.reset(n)
	if st.Snapshot != nil {
		for _, c := range st.Snapshot.Calls {
			d.calls.addLoaded(c)
		}
	}
	for _, r := range st.Records {
		for _, c := range r.Calls {
			d.calls.addLoaded(c)
		}
	}
}

// addLoaded remembers a loaded call with a result of its own: a Storage may
// return one that shares the memory of a much larger message.
func (t *callTable) addLoaded(c CallRecord) {
	if c.Result != nil {
		c.Result = bytes.Clone(c.Result)
	}
	t.add(c)
}

// remembers reports whether the instance remembers calls at all.
func (in *instance) remembers() bool { return in.dur != nil && in.dur.calls.max > 0 }

// answerRepeated answers a call from a connection that the instance
// committed already, as it answered it then, and reports whether it did:
// the method does not run again. Under Gated the answer waits, like any,
// until the version that stored it is durable. Mailbox only, before the
// call runs.
func (in *instance) answerRepeated(item *callItem) bool {
	if !in.remembers() || item.conn == nil || item.id == nil || len(in.dur.calls.ring) == 0 {
		return false
	}
	c, ok := in.dur.calls.get(callKey(item.conn.ID(), item.id))
	if !ok {
		return false
	}
	var result json.RawMessage
	if len(c.Result) > 0 { // a Storage may return none as empty
		result = c.Result
	}
	var err error
	if c.Error != "" {
		err = &CallError{Message: c.Error}
	}
	item.reply(result, err)
	return true
}

// callRecord is the record of the running call with result and error
// text, or nil when the call is not to be remembered (no connection or
// rpc id, or no memory).
func (in *instance) callRecord(sc *turn, result json.RawMessage, errText string) *CallRecord {
	if !in.remembers() || sc.conn == nil || sc.rpcID == nil {
		return nil
	}
	return &CallRecord{Key: callKey(sc.conn.ID(), sc.rpcID), Result: result, Error: errText}
}

// commitCall is commit for the end of a method call: the answer of the
// call goes with the commit's record, if it writes one. Mailbox only.
func (in *instance) commitCall(sc *turn, draft reflect.Value) (old reflect.Value) {
	c := in.callRecord(sc, sc.result, "")
	if c == nil {
		return in.commit(draft)
	}
	d := in.dur
	d.committing = c
	old = in.commit(draft)
	sc.answerStored = d.committing == nil // logCommit took it
	d.committing = nil
	return old
}

// takeCommitting returns the call the current commit answers, if any,
// and remembers it. Mailbox only (logCommit).
func (d *durable) takeCommitting() *CallRecord {
	c := d.committing
	d.committing = nil
	if c != nil {
		d.calls.add(*c)
	}
	return c
}

// storeUnwrittenAnswer stores the answer of a call whose changes were
// written before it ended (a streaming method's flushes) but whose answer
// was not: a version of its own, with an empty patch, carries it, so that
// the flushed changes are not made twice. It returns the error to answer
// with: err's text as the caller receives it. Mailbox only.
func (in *instance) storeUnwrittenAnswer(item *callItem, result json.RawMessage, err error) error {
	sc := &item.sc
	if !sc.flushed || sc.answerStored || !in.remembers() {
		return err
	}
	text := ""
	if err != nil {
		text = in.app.errorText(err, &item.info)
		err = &CallError{Message: text, Kind: err}
	}
	c := in.callRecord(sc, result, text)
	if c == nil {
		return err
	}
	in.dur.committing = c
	in.sendEmptyPatch(in.logCommit([]byte("[]"), in.state))
	in.dur.committing = nil
	return err
}
