package inspector

import "github.com/zocket-go/zocket"

// Snapshot is what the inspector shows at one moment, as /stats.json
// serves it.
type Snapshot struct {
	// Instances are the live instances, sorted by actor then id, at most
	// Options.MaxInstances of them; Total counts them all.
	Instances []Instance `json:"instances"`
	Total     int        `json:"total"`
	// Recording reports whether a Recorder supplies LastCall and Methods.
	Recording bool          `json:"recording"`
	Methods   []MethodStats `json:"methods"`
}

// Instance is one live instance (zocket.InstanceStats) and its last call.
type Instance struct {
	Actor            string    `json:"actor"`
	ID               string    `json:"id"`
	StateSubscribers int       `json:"stateSubscribers"`
	EventSubscribers int       `json:"eventSubscribers"`
	Connections      int       `json:"connections"`
	Queued           int       `json:"queued"`
	Running          bool      `json:"running"`
	Version          uint64    `json:"version"`
	LastCall         *LastCall `json:"lastCall,omitempty"`
}

// Snapshot returns what the inspector shows now.
func (i *Inspector) Snapshot() Snapshot {
	all := i.app.Instances()
	s := Snapshot{Total: len(all), Recording: i.rec != nil, Instances: make([]Instance, 0, min(len(all), i.max)),
		Methods: []MethodStats{}}
	for _, st := range all[:min(len(all), i.max)] {
		s.Instances = append(s.Instances, i.instance(st))
	}
	if i.rec != nil {
		s.Methods = i.rec.Methods()
	}
	return s
}

func (i *Inspector) instance(st zocket.InstanceStats) Instance {
	in := Instance{Actor: st.Actor, ID: st.ID, StateSubscribers: st.StateSubscribers,
		EventSubscribers: st.EventSubscribers, Connections: st.Connections, Queued: st.Queued,
		Running: st.Running, Version: st.Version}
	if i.rec != nil {
		if c, ok := i.rec.LastCall(st.Actor, st.ID); ok {
			in.LastCall = &c
		}
	}
	return in
}
