package natscluster

// RendezvousOwner exposes the partition assignment to the tests.
var RendezvousOwner = owner
