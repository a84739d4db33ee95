package natscluster

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// tracked lists a session's remembered subscription frames.
func tracked(s *session) []string {
	s.follow.mu.Lock()
	defer s.follow.mu.Unlock()
	var frames []string
	for _, fo := range s.follow.subs {
		for _, f := range [][]byte{fo.state, fo.event} {
			if f != nil {
				frames = append(frames, string(f))
			}
		}
	}
	return frames
}

func routeAll(s *session, frames ...string) {
	for _, f := range frames {
		s.route(context.Background(), []byte(f))
	}
}

// The gateway remembers at most MaxSubscriptions subscriptions per
// session, counted per instance and kind like the runtime's limit; an
// unsub frees a place, and a repeated sub replaces the remembered frame.
// Frames larger than maxFollowedFrame are not remembered.
func TestFollow_RemembersSubscriptionsUpToTheLimit(t *testing.T) {
	g := &Gateway{js: failingJS{}, opts: GatewayOptions{SendQueue: 4, MaxSubscriptions: 2, Logger: slog.New(slog.DiscardHandler)}}
	s := newSession(g, nil, "s1", Authorization{Namespace: Namespace{"w", "p"}})
	a1 := `{"type":"state:sub","actor":"room","actorId":"a"}`
	a2 := `{"type":"state:sub","actor":"room","actorId":"a","version":2}`
	ae := `{"type":"event:sub","actor":"room","actorId":"a"}`
	b := `{"type":"state:sub","actor":"room","actorId":"b"}`
	routeAll(s, a1, `{"type":"rpc","id":"1","actor":"room","actorId":"a","method":"m"}`, ae, b)
	assert.ElementsMatch(t, []string{a1, ae}, tracked(s), "the third is beyond the limit")

	routeAll(s, `{"type":"event:unsub","actor":"room","actorId":"a"}`, b, a2)
	assert.ElementsMatch(t, []string{a2, b}, tracked(s))

	huge := `{"type":"event:sub","actor":"room","actorId":"c","pad":"` + strings.Repeat("x", maxFollowedFrame) + `"}`
	routeAll(s, `{"type":"state:unsub","actor":"room","actorId":"b"}`, huge)
	assert.ElementsMatch(t, []string{a2}, tracked(s), "a frame larger than maxFollowedFrame is not remembered")

	s.follow.close()
	routeAll(s, ae)
	assert.Empty(t, tracked(s), "a closed session remembers nothing")
}
