package natscluster

import (
	"hash/fnv"
	"strconv"
)

// Partitioned deployments (docs/design/scale-out.md) cut a scope's actor
// space into a fixed number of partitions. INBOUND stores every message
// under inbound.{ws}.{prj}.{actorType}.{partition}.{actorId}, a subject
// transform the server applies with partition(P): the gateways keep
// publishing the subjects TypeScript uses.

// PinGroup is the priority group every runtime pulls a partition
// consumer in.
const PinGroup = "runtimes"

// RuntimesBucket is the key-value bucket where runtimes list themselves
// and the partitions they hold (a MemberEntry under MemberKey).
const RuntimesBucket = "ZOCKET_RUNTIMES"

// Partition is the partition of an instance among count partitions: the
// 32-bit FNV-1a hash of its inbound subject modulo count, which is what the
// server's partition(count) transform computes.
func Partition(s Namespace, actor, actorID string, count int) int {
	return int(subjectHash(InboundSubject(s, actor, actorID)) % uint32(count))
}

// subjectHash is the 32-bit FNV-1a hash of an inbound subject: its
// partition among count is the hash modulo count.
func subjectHash(subject string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(subject))
	return h.Sum32()
}

// PartitionConsumerName is the durable consumer of one partition:
// rt-{ws}-{prj}-p{n}.
func PartitionConsumerName(s Namespace, n int) string {
	return "rt-" + s.WorkspaceID + "-" + s.ProjectID + "-p" + strconv.Itoa(n)
}

// PartitionFilter is a partition consumer's filter:
// inbound.{ws}.{prj}.*.{n}.>.
func PartitionFilter(s Namespace, n int) string {
	return "inbound." + s.WorkspaceID + "." + s.ProjectID + ".*." + strconv.Itoa(n) + ".>"
}

// MemberKey is a runtime's key in RuntimesBucket: {ws}.{prj}.{runtimeId}.
func MemberKey(s Namespace, runtimeID string) string {
	return s.WorkspaceID + "." + s.ProjectID + "." + runtimeID
}

// MemberEntry is a runtime's value in RuntimesBucket, refreshed while it
// runs, deleted when it stops, and gone after the bucket's TTL when it
// dies.
type MemberEntry struct {
	RuntimeID string `json:"runtimeId"`
	// Partitions is the deployment's partition count.
	Partitions int `json:"partitions"`
	// Held lists the partitions this runtime is pinned for, in increasing
	// order: it received their messages and has not released them.
	Held []int `json:"held"`
}
