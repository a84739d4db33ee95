package zocket

import (
	"crypto/rand"
	"encoding/base64"

	"github.com/zocket-go/zocket/protocol"
)

// DefaultResumeHistory is how many bytes of recent patches an instance
// keeps for subscribers that resume (WithResumeHistory).
const DefaultResumeHistory = 64 << 10

// WithResumeHistory sets how many bytes of its latest patches each
// instance keeps (default DefaultResumeHistory; < 0 keeps none), so that a
// client that resubscribes with the version it has (after a reconnect, a
// gap, or a slow spell) gets the patches it missed instead of a snapshot.
// A client further behind, or of another epoch, gets a snapshot.
func WithResumeHistory(bytes int) Option { return func(a *App) { a.historyBytes = bytes } }

// Versions. Every commit that changes an instance's state gives it the
// next version; its state frames carry the version and the instance's
// epoch, which names its history: drawn when the instance starts from
// nothing (every activation of an ephemeral instance, the first of a
// durable one, whose epoch is kept in its snapshots).

// newEpoch draws an epoch: 64 random bits, URL-safe.
func newEpoch() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// patchEntry is one commit's patch in an instance's history.
type patchEntry struct {
	version uint64
	ops     []byte
}

// history holds an instance's latest patches, up to a byte bound: it covers
// the versions after from, up to the instance's version. Guarded by in.mu.
type history struct {
	from    uint64
	entries []patchEntry
	head    int // entries[head:] are live
	bytes   int
}

// recordLocked appends the patch of version v; ops must not change later.
// The caller holds in.mu.
func (in *instance) recordLocked(v uint64, ops []byte) {
	h := &in.hist
	limit := in.app.historyBytes
	if limit < 0 || len(ops) > limit {
		in.forgetHistoryLocked(v)
		return
	}
	if h.head == len(h.entries) {
		h.from = v - 1
	}
	h.entries = append(h.entries, patchEntry{v, ops})
	h.bytes += len(ops)
	for h.bytes > limit {
		e := &h.entries[h.head]
		h.bytes -= len(e.ops)
		h.from = e.version
		*e = patchEntry{}
		h.head++
	}
	if h.head > 64 && h.head > len(h.entries)/2 { // compact the backing array
		n := copy(h.entries, h.entries[h.head:])
		clear(h.entries[n:])
		h.entries, h.head = h.entries[:n], 0
	}
}

// forgetHistoryLocked empties the history: it now covers nothing before
// version v. The caller holds in.mu.
func (in *instance) forgetHistoryLocked(v uint64) {
	h := &in.hist
	clear(h.entries)
	*h = history{from: v, entries: h.entries[:0]}
}

// resumeFramesLocked returns the state frames that bring a client at
// version v of epoch to the instance's state: the patches after v from
// the history, none when it is current, or nil and false when only a
// snapshot can. The caller holds in.mu.
func (in *instance) resumeFramesLocked(v uint64, epoch string) ([][]byte, bool) {
	h := &in.hist
	if epoch != in.epoch || v > in.version || v < h.from {
		return nil, false
	}
	var frames [][]byte
	for _, e := range h.entries[h.head:] {
		if e.version > v {
			frames = append(frames, in.patchFrame(e.ops, e.version))
		}
	}
	if uint64(len(frames)) != in.version-v {
		return nil, false // a hole: should not happen, but never send one
	}
	return frames, true
}

// plainPatch encodes a state:patch of this instance, without version
// (with room for one: patchFrame).
func (in *instance) plainPatch(ops []byte) []byte {
	return protocol.AppendPatch(make([]byte, 0, len(ops)+len(in.key.actor)+len(in.key.id)+96),
		in.key.actor, in.key.id, ops)
}

// patchFrame encodes a state:patch of this instance at version v.
func (in *instance) patchFrame(ops []byte, v uint64) []byte {
	return protocol.AppendVersion(in.plainPatch(ops), v, in.epoch)
}

// setVersionedLocked records whether the state subscriber id asked for
// versions (its state:sub carried one). The caller holds in.mu.
func (in *instance) setVersionedLocked(id string, on bool) {
	if _, ok := in.versions[id]; ok == on {
		return
	}
	next := make(map[string]struct{}, len(in.versions)+1)
	for k := range in.versions {
		next[k] = struct{}{}
	}
	if on {
		next[id] = struct{}{}
	} else {
		delete(next, id)
	}
	in.versions = next
}
