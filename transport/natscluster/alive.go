package natscluster

import (
	"encoding/json"
	"time"

	"github.com/nats-io/nats.go"
)

// Session liveness (Go extension). Disconnect notices travel on core
// NATS: a runtime that is not listening when one is published (a NATS
// reconnect) keeps the session for ever, publishing its patches to nobody,
// and a gateway that crashes publishes none at all. So a Go gateway
// publishes, every GatewayOptions.AliveInterval, the ids of its open
// sessions on core NATS "session.alive.{ws}.{prj}", and a runtime treats a
// session that appeared in such a list and then stopped appearing for
// RuntimeOptions.AliveTimeout as disconnected. Sessions never listed (a
// TypeScript gateway sends no lists) are left alone.

// AliveSubject is session.alive.{ws}.{prj}.
func AliveSubject(s Namespace) string {
	return "session.alive." + s.WorkspaceID + "." + s.ProjectID
}

// SessionsAliveNotice lists open sessions of one gateway in one namespace.
type SessionsAliveNotice struct {
	Namespace  Namespace `json:"scope"`
	SessionIDs []string  `json:"sessionIds"`
	At         int64     `json:"at"` // milliseconds since the epoch
}

// aliveChunk bounds a notice's list, keeping it far below NATS's default
// 1 MB payload limit.
const aliveChunk = 8192

// aliveLoop publishes the gateway's open sessions until stop closes.
func (g *Gateway) aliveLoop(stop <-chan struct{}) {
	t := time.NewTicker(g.opts.AliveInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		byNamespace := map[Namespace][]string{}
		g.mu.Lock()
		for _, s := range g.sessions {
			byNamespace[s.auth.Namespace] = append(byNamespace[s.auth.Namespace], s.id)
		}
		g.mu.Unlock()
		now := time.Now().UnixMilli()
		for sc, ids := range byNamespace {
			for len(ids) > 0 {
				n := min(len(ids), aliveChunk)
				g.notice(AliveSubject(sc), SessionsAliveNotice{Namespace: sc, SessionIDs: ids[:n], At: now})
				ids = ids[n:]
			}
		}
	}
}

// onAlive records that the listed sessions are open.
func (r *Runtime) onAlive(m *nats.Msg) {
	var n SessionsAliveNotice
	if json.Unmarshal(m.Data, &n) != nil || n.Namespace != r.opts.Namespace {
		return
	}
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range n.SessionIDs {
		if vc := r.sessions[id]; vc != nil {
			vc.aliveAt = now
		}
	}
}

// expireSilent returns the sessions that were listed alive once and not
// for AliveTimeout, removed and tombstoned; the caller closes them. The
// caller holds r.mu.
func (r *Runtime) expireSilentLocked(now time.Time) []*vconn {
	var gone []*vconn
	for id, vc := range r.sessions {
		if !vc.aliveAt.IsZero() && now.Sub(vc.aliveAt) > r.opts.AliveTimeout {
			delete(r.sessions, id)
			r.tombs[id] = now
			r.dropBatcher(vc.batch)
			gone = append(gone, vc)
		}
	}
	return gone
}
