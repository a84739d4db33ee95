package natscluster

import (
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"

	"github.com/zocket-go/zocket/protocol"
)

// delivery is an inbound delivery whose Ack is recorded.
type delivery struct {
	ackRecorder
	data []byte
}

func (d delivery) Data() []byte         { return d.data }
func (d delivery) Headers() nats.Header { return nil }
func (d delivery) Subject() string      { return "test" }

// A redelivered rpc whose call has ended is acked at once only if its
// result is out: while the result waits in the batcher behind a running
// flush, acking the redelivery (the same stream message) would let a
// runtime that dies now lose the result.
func TestRuntime_RedeliveryOfAnAnsweredRPCIsAckedAfterItsQueuedResult(t *testing.T) {
	rig := newBatchRig(1 << 20)
	r := &Runtime{opts: RuntimeOptions{Namespace: batchNS, Logger: slog.New(slog.DiscardHandler)},
		sessions: map[string]*vconn{}, tombs: map[string]time.Time{}, seen: map[string]time.Time{}}
	vc := &vconn{r: r, id: "s1", batch: rig.b}
	r.sessions["s1"] = vc
	id := json.RawMessage(`"r1"`)
	rpc := protocol.AppendRPC(nil, id, "room", "keep", "say", json.RawMessage(`{}`))
	data := append(inboundHead(batchNS, "s1", nil, nil), rpc...)
	data = append(data, '}')
	var order []string
	r.seen["s1\x00"+string(id)] = time.Now()
	vc.expect(string(id), delivery{ackRecorder{order: &order, name: "ack first delivery"}, data})

	first := true
	rig.b.publish = func(m *nats.Msg) error {
		order = append(order, "publish "+string(m.Data[len(m.Data)-5:len(m.Data)-3]))
		if first { // another session's flush is running: the call ends meanwhile
			first = false
			_ = vc.Queue([]byte(`{"type":"rpc:result","id":"r1"}`))
			vc.RPCDone(id)
			r.handle(delivery{ackRecorder{order: &order, name: "ack redelivery"}, data})
		}
		return nil
	}
	rig.b.add("s0", []byte(`{"type":"rpc:result","id":"r0"}`))
	rig.b.flush()

	assert.Equal(t, []string{"publish r0", "publish r1", "ack first delivery", "ack redelivery"}, order)
}
