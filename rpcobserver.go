package zocket

import "encoding/json"

// RPCObserver is optionally implemented by a Connection that needs to know
// when each of its calls has been answered: a transport that acknowledges
// a call's inbound message only once its answer is out, for instance.
//
// The Handler calls RPCDone once for every rpc frame carrying an id that it
// answers (a result, a method's error, an unknown actor, a malformed call,
// a refusal because the App is closed or too many calls are in flight), on
// the goroutine that answered, right after handing the rpc:result to the
// connection: after Send returns, or, for a Flusher, after Queue returns,
// when the frame may still wait in the connection's queue for the next
// flush. So RPCDone means the answer is the connection's to deliver, not
// that it was written. id is the rpc's id exactly as the client sent it. A
// call that is never answered, because its connection closed first, gets
// no RPCDone.
type RPCObserver interface {
	RPCDone(id json.RawMessage)
}

// rpcDone tells c, when it is an RPCObserver, that the call id was answered.
func rpcDone(c Connection, id json.RawMessage) {
	if id == nil {
		return
	}
	if o, ok := c.(RPCObserver); ok {
		o.RPCDone(id)
	}
}
