package client_test

import (
	"encoding/json"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/client"
)

// stateLog records every state a handle's subscriber receives, as JSON.
type stateLog struct {
	mu     sync.Mutex
	states []string
}

func (l *stateLog) add(v any) {
	b, _ := json.Marshal(v)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.states = append(l.states, string(b))
}

func (l *stateLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.states...)
}

// Frames of instance v/x, as a Go server sends them.
const (
	subV     = `{"type":"state:sub","actor":"v","actorId":"x","version":0,"epoch":""}`
	snapV5   = `{"type":"state:snapshot","actor":"v","actorId":"x","state":{"n":5},"version":5,"epoch":"e1"}`
	resumeV5 = `{"type":"state:sub","actor":"v","actorId":"x","version":5,"epoch":"e1"}`
)

// patchV is the versioned patch that sets n to version.
func patchV(version int, epoch string) string {
	b, _ := json.Marshal(map[string]any{"type": "state:patch", "actor": "v", "actorId": "x",
		"patches": []any{map[string]any{"op": "replace", "path": "/n", "value": version}}, "version": version, "epoch": epoch})
	return string(b)
}

// feed hands the frames to the client and waits until it has handled them.
func feed(s *fakeSocket, frames ...string) {
	for _, f := range frames {
		s.receive(f)
	}
	synctest.Wait()
}

// subscribedAt5 returns a client whose handle on v/x holds {"n":5} at
// version 5 of epoch e1, the log of its states, and its socket.
func subscribedAt5(t *testing.T) (*client.Handle, *stateLog, *fakeSocket, *fakeNet) {
	t.Helper()
	c, s, n := openClient(t, client.Options{ReconnectDelay: zero})
	h := c.Actor("v", "x")
	log := &stateLog{}
	h.Subscribe(log.add)
	feed(s, snapV5)
	require.Equal(t, []string{subV}, s.frames())
	return h, log, s, n
}

func TestReconnect_ResumesFromTheVersionTheHandleHas(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, log, s1, n := subscribedAt5(t)
		s1.receive(patchV(6, "e1"))
		s1.drop("")
		s2 := n.next(t)
		s2.open()
		synctest.Wait()
		assert.Equal(t, []string{`{"type":"state:sub","actor":"v","actorId":"x","version":6,"epoch":"e1"}`}, s2.frames())
		st, ok := h.State()
		require.True(t, ok)
		assert.Equal(t, map[string]any{"n": json.Number("6")}, st, "the state is kept while the server has nothing new")

		feed(s2, patchV(7, "e1"), patchV(8, "e1"))
		assert.Equal(t, []string{`{"n":5}`, `{"n":6}`, `{"n":7}`, `{"n":8}`}, log.all(), "patches after the resume apply")
	})
}

func TestVersionedPatch_AfterAGapIsNotAppliedAndResumesOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, log, s, _ := subscribedAt5(t)
		feed(s, patchV(7, "e1"), patchV(8, "e1"))
		assert.Equal(t, []string{subV, resumeV5}, s.frames(), "one resume for the gap")
		assert.Equal(t, []string{`{"n":5}`}, log.all(), "nothing applied past the gap")

		feed(s, patchV(6, "e1"), patchV(7, "e1"), patchV(8, "e1"), // the server's answer to the resume
			patchV(10, "e1")) // a new gap
		assert.Equal(t, []string{`{"n":5}`, `{"n":6}`, `{"n":7}`, `{"n":8}`}, log.all())
		assert.Equal(t, []string{subV, resumeV5, `{"type":"state:sub","actor":"v","actorId":"x","version":8,"epoch":"e1"}`},
			s.frames(), "the next patch ended the first gap: a new gap resumes again")
	})
}

func TestVersionedPatch_DuplicateIsIgnoredSilently(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, log, s, _ := subscribedAt5(t)
		feed(s, patchV(5, "e1"), patchV(3, "e1"))
		assert.Equal(t, []string{subV}, s.frames(), "nothing sent")
		assert.Equal(t, []string{`{"n":5}`}, log.all(), "nothing applied")
	})
}

func TestVersionedPatch_OfAnotherEpochResumesAndTheSnapshotReplacesState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, log, s, _ := subscribedAt5(t)
		feed(s, patchV(6, "e2"))
		assert.Equal(t, []string{subV, resumeV5}, s.frames())

		feed(s, `{"type":"state:snapshot","actor":"v","actorId":"x","state":{"n":1},"version":1,"epoch":"e2"}`, patchV(2, "e2"))
		assert.Equal(t, []string{`{"n":5}`, `{"n":1}`, `{"n":2}`}, log.all())
	})
}

func TestVersionedPatch_GapResumesAgainAfterAReconnect(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, _, s1, n := subscribedAt5(t)
		feed(s1, patchV(7, "e1"))
		require.Equal(t, []string{subV, resumeV5}, s1.frames())
		s1.drop("")
		s2 := n.next(t)
		s2.open()
		s2.receive(patchV(9, "e1"))
		synctest.Wait()
		assert.Equal(t, []string{resumeV5, resumeV5}, s2.frames(), "the reconnect's resume, then the new gap's")
	})
}

func TestSnapshotWithoutVersion_ForgetsTheVersion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, log, s1, n := subscribedAt5(t)
		feed(s1, `{"type":"state:snapshot","actor":"v","actorId":"x","state":{"n":0}}`,
			`{"type":"state:patch","actor":"v","actorId":"x","patches":[{"op":"replace","path":"/n","value":1}]}`)
		assert.Equal(t, []string{`{"n":5}`, `{"n":0}`, `{"n":1}`}, log.all(), "unversioned patches apply as before")
		s1.drop("")
		s2 := n.next(t)
		s2.open()
		synctest.Wait()
		assert.Equal(t, []string{subV}, s2.frames(), "no version to resume from")
	})
}

func TestSubscribe_AgainAfterUnsubscribingResumes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, s, _ := openClient(t, client.Options{})
		h := c.Actor("v", "x")
		off := h.Subscribe(func(any) {})
		feed(s, snapV5)
		off()
		h.Subscribe(func(any) {})
		synctest.Wait()
		assert.Equal(t, []string{subV, `{"type":"state:unsub","actor":"v","actorId":"x"}`, resumeV5}, s.frames())
	})
}

func TestVersionedPatch_ThatFailsAsksForASnapshot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, log, s, _ := subscribedAt5(t)
		feed(s, `{"type":"state:patch","actor":"v","actorId":"x","patches":[{"op":"replace","path":"/missing","value":1}],"version":6,"epoch":"e1"}`)
		assert.Equal(t, []string{subV, subV}, s.frames(), "no version to resume from: the state left the history")
		assert.Equal(t, []string{`{"n":5}`}, log.all(), "the failed patch changed nothing")
	})
}
