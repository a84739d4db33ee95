package natscluster

import (
	"log/slog"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
)

// relayMsg is a message on a gateway's subject.
type relayMsg struct {
	jetstream.Msg
	subject string
	data    []byte
}

func (m relayMsg) Subject() string { return m.subject }
func (m relayMsg) Data() []byte    { return m.data }

// dispatched hands data to a gateway holding session s1 as a message on its
// subject, and returns the frames s1 got.
func dispatched(data string) []string {
	g := &Gateway{opts: GatewayOptions{SendQueue: 16, SendQueueBytes: 1 << 20, Logger: slog.New(slog.DiscardHandler)},
		sessions: map[string]*session{}}
	s := newSession(g, nil, "s1", Authorization{Namespace: batchNS})
	g.sessions["s1"] = s
	g.dispatch(relayMsg{subject: GatewayOutboundSubject(batchNS, "g1"), data: []byte(data)})
	var got []string
	for len(s.out) > 0 {
		got = append(got, string(<-s.out))
	}
	return got
}

func TestGatewayRelay_DispatchesEachEnvelopeOfABatchInOrder(t *testing.T) {
	one := string(appendGatewayOutbound(nil, batchNS, []string{"s1"}, []byte(`{"n":1}`)))
	two := string(appendGatewayOutbound(nil, batchNS, []string{"s1"}, []byte(`{"n":2}`)))
	assert.Equal(t, []string{`{"n":1}`, `{"n":2}`}, dispatched("["+one+", "+two+" ]"))
	assert.Empty(t, dispatched("[ ]"))
}

// A batch is a JSON array: envelopes not separated by commas, or a comma
// with no envelope after it, are not one; what follows the fault is
// skipped, as for an envelope that cannot be decoded.
func TestGatewayRelay_SkipsTheRestOfABatchThatIsNotAJSONArray(t *testing.T) {
	one := string(appendGatewayOutbound(nil, batchNS, []string{"s1"}, []byte(`{"n":1}`)))
	two := string(appendGatewayOutbound(nil, batchNS, []string{"s1"}, []byte(`{"n":2}`)))
	assert.Equal(t, []string{`{"n":1}`}, dispatched("["+one+" "+two+"]"), "no comma")
	assert.Equal(t, []string{`{"n":1}`}, dispatched("["+one+",]"), "a trailing comma")
	assert.Equal(t, []string{`{"n":1}`}, dispatched("["+one+"]"+two), "after the array")
	assert.Empty(t, dispatched("[,"+one+"]"), "a leading comma")
}
