package wscore

// QueueStats is a moment's view of the outbound queues of a server's
// connections, in aggregate: totals and the largest single queue, never a
// figure per connection. The transports' Server.Queues returns it, for
// metrics (package otelzocket's WatchQueues) and health checks.
//
// The figures count frames from the moment they are queued until they are
// written, as Backlog does: Frames and Bytes near zero mean the clients
// keep up; a MaxFrames or MaxBytes near Options.SendQueue or
// Options.SendQueueBytes means one connection is about to be closed as a
// slow consumer.
type QueueStats struct {
	Conns     int // open connections
	Frames    int // frames queued and not yet written, over all connections
	Bytes     int // payload bytes of those frames
	MaxFrames int // frames queued on the connection with the most
	MaxBytes  int // payload bytes queued on the connection with the most
}

// Add counts one connection, with frames frames of bytes payload bytes
// queued, into q. A transport built on Backlog passes its Len, under the
// connection's lock.
func (q *QueueStats) Add(frames, bytes int) {
	q.Conns++
	q.Frames += frames
	q.Bytes += bytes
	q.MaxFrames = max(q.MaxFrames, frames)
	q.MaxBytes = max(q.MaxBytes, bytes)
}

// Merge adds the connections of other to q, as if q had counted them too:
// the totals add up, the maxima are the larger of the two.
func (q *QueueStats) Merge(other QueueStats) {
	q.Conns += other.Conns
	q.Frames += other.Frames
	q.Bytes += other.Bytes
	q.MaxFrames = max(q.MaxFrames, other.MaxFrames)
	q.MaxBytes = max(q.MaxBytes, other.MaxBytes)
}
