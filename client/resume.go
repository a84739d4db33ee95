package client

import (
	"errors"

	"github.com/zocket-go/zocket/protocol"
	"github.com/zocket-go/zocket/statestore"
)

// A Go server sends each state:snapshot and state:patch with the version
// and epoch of the state it leads to. The handle's store keeps them, so
// that a state:sub after a reconnect names the state the handle has: the
// server answers with only the patches after it, a snapshot when it
// cannot, or nothing when the handle is current (a TypeScript server
// ignores the members and sends a snapshot). A versioned patch that does
// not follow the state (missed versions, another epoch) is not applied:
// the handle asks again the same way, once until a snapshot or the next
// patch arrives, or the connection is re-established.

// sendStateSub sends state:sub for this pair, with the version and epoch
// of the state the handle has; version 0 and no epoch when it has none,
// which asks a Go server for versioned frames (it sends them only to
// subscribers that ask) and gets a snapshot.
func (h *handleCore) sendStateSub() {
	h.mu.Lock()
	store := h.store
	h.mu.Unlock()
	v, epoch, _ := store.Version()
	h.c.sendBestEffort(protocol.AppendResume(nil, h.key.actor, h.key.id, v, epoch))
}

// receiveState applies a state:snapshot or state:patch to the store.
func (h *handleCore) receiveState(m *protocol.Message) {
	h.mu.Lock()
	store := h.store
	h.mu.Unlock()
	switch {
	case m.Type == protocol.TypeStateSnapshot:
		h.setResuming(false)
		var err error
		if m.HasVersion {
			err = store.ApplyVersionedSnapshot(m.State, m.Version, m.Epoch)
		} else {
			err = store.ApplySnapshot(m.State)
		}
		if err != nil {
			h.c.opts.Logger.Warn("client: bad snapshot", "actor", h.key.actor, "actorId", h.key.id, "err", err)
		}
	case !m.HasVersion:
		if _, err := store.ApplyPatch(m.Patches); err != nil {
			h.patchFailed(err)
		}
	default:
		out, err := store.ApplyVersionedPatch(m.Patches, m.Version, m.Epoch)
		switch {
		case err != nil:
			h.patchFailed(err)
		case out == statestore.Applied:
			h.setResuming(false)
		case out == statestore.Gap:
			h.gap(m)
		}
	}
}

// patchFailed asks for a fresh snapshot after a patch that did not apply:
// the state never diverges silently.
func (h *handleCore) patchFailed(err error) {
	h.c.opts.Logger.Warn("client: patch failed; re-subscribing for a snapshot", "actor", h.key.actor,
		"actorId", h.key.id, "err", err)
	h.mu.Lock()
	want := h.wantsState
	h.mu.Unlock()
	if want && errors.Is(err, statestore.ErrPatch) {
		h.sendStateSub()
	}
}

// gap resumes after a versioned patch that does not follow the state,
// unless a resume for an earlier gap is still unanswered.
func (h *handleCore) gap(m *protocol.Message) {
	h.mu.Lock()
	ask := h.wantsState && !h.resuming
	if ask {
		h.resuming = true
	}
	h.mu.Unlock()
	h.c.opts.Logger.Debug("client: patch does not follow the state", "actor", h.key.actor, "actorId", h.key.id,
		"version", m.Version, "epoch", m.Epoch, "resuming", ask)
	if ask {
		h.sendStateSub()
	}
}

func (h *handleCore) setResuming(v bool) {
	h.mu.Lock()
	h.resuming = v
	h.mu.Unlock()
}
