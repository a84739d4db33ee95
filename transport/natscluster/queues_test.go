package natscluster

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/zocket-go/zocket/transport/wscore"
)

func TestGatewayQueues_CountFramesUntilWrittenOverSessions(t *testing.T) {
	g := observedGateway(NopObserver{})
	g.sessions = map[string]*session{}
	slow := newSession(g, nil, "s1", Authorization{})
	idle := newSession(g, nil, "s2", Authorization{})
	g.sessions[slow.id], g.sessions[idle.id] = slow, idle

	for _, f := range []string{`{"a":1}`, `{"b":22}`, `{"c":333}`} {
		slow.send([]byte(f))
	}
	assert.Equal(t, wscore.QueueStats{Conns: 2, Frames: 3, Bytes: 24, MaxFrames: 3, MaxBytes: 24}, g.Queues())

	for range 3 { // what the writer does with each frame it takes
		slow.written(<-slow.out)
	}
	assert.Equal(t, wscore.QueueStats{Conns: 2}, g.Queues())
}

func TestGatewayQueues_DoNotCountAFrameRefusedByAFullQueue(t *testing.T) {
	g := observedGateway(NopObserver{})
	g.sessions = map[string]*session{}
	s := newSession(g, nil, "s1", Authorization{})
	g.sessions[s.id] = s
	s.out = make(chan []byte) // a queue that is always full
	s.once.Do(func() {})      // the socket is not real: closing it must do nothing here

	s.send([]byte(`{}`))
	assert.Equal(t, wscore.QueueStats{Conns: 1}, g.Queues())
}
