package zocket

import (
	"slices"
	"strings"
)

// InstanceStats describes one live instance at a moment, for inspection
// and gauges (App.Instances).
type InstanceStats struct {
	Actor string
	ID    string
	// StateSubscribers and EventSubscribers count the connections
	// subscribed to the instance's state and events.
	StateSubscribers int
	EventSubscribers int
	// Connections counts the connections that have interacted with the
	// instance and not closed.
	Connections int
	// Queued is the number of mailbox items waiting (the mailbox depth);
	// Running reports whether one is running.
	Queued  int
	Running bool
	// Version is the instance's version: one more per commit, kept
	// across activations when the actor type is durable.
	Version uint64
}

// Instances returns the live instances' stats, sorted by actor then id.
// It takes each instance's lock briefly, one at a time: the figures of
// different instances are not from the same instant.
func (a *App) Instances() []InstanceStats {
	var out []InstanceStats
	a.live.Range(func(_, v any) bool {
		out = append(out, v.(*instance).stats())
		return true
	})
	slices.SortFunc(out, func(x, y InstanceStats) int { return compareNames(x.Actor, x.ID, y.Actor, y.ID) })
	return out
}

// compareNames orders instances by actor, then id.
func compareNames(actorX, idX, actorY, idY string) int {
	if c := strings.Compare(actorX, actorY); c != 0 {
		return c
	}
	return strings.Compare(idX, idY)
}

func (in *instance) stats() InstanceStats {
	in.mu.Lock()
	defer in.mu.Unlock()
	return InstanceStats{
		Actor: in.key.actor, ID: in.key.id,
		StateSubscribers: len(in.stateSubs), EventSubscribers: len(in.eventSubs),
		Connections: len(in.known), Queued: len(in.queue) - in.head, Running: in.running,
		Version: in.version,
	}
}
