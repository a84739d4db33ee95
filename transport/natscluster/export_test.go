package natscluster

// RendezvousOwner exposes the partition assignment to the tests.
var RendezvousOwner = owner

// GatewayBatchers is how many gateways' batchers the runtime keeps.
func (r *Runtime) GatewayBatchers() int {
	r.batchers.mu.Lock()
	defer r.batchers.mu.Unlock()
	return len(r.batchers.m)
}
