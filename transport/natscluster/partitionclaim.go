package natscluster

import (
	"context"
	"strconv"

	"github.com/nats-io/nats.go"
)

// Claim messages. The server pins a partition's consumer to a runtime only
// when it delivers that runtime a message, and a runtime holds (and loads
// the alarms of) only partitions whose messages reached it. A partition
// without traffic would then be held by nobody: after a cold start, a
// handover (the unpin leaves no pin) or a lost pin, its instances' alarms
// would never fire. So a runtime publishes a claim message to a partition
// when it starts pulling it, when it hands it over and when it lost its
// pin: whoever the server pins for it receives it and holds the partition.
// A claim message carries headerClaim and no envelope; a runtime acks it.

// headerClaim marks a claim message.
const headerClaim = "Zocket-Claim"

// claimActor is the actor type token of claim messages' subjects.
const claimActor = "_claim"

// claimSubject is an inbound subject that partition n of count holds.
func claimSubject(ns Namespace, n, count int) string {
	for i := 0; ; i++ {
		if id := strconv.Itoa(i); Partition(ns, claimActor, id, count) == n {
			return InboundSubject(ns, claimActor, id)
		}
	}
}

// publishClaim publishes a claim message to partition n and waits for its
// PubAck.
func (p *partitions) publishClaim(n int) error {
	ctx, cancel := context.WithTimeout(context.Background(), p.r.opts.MemberTTL)
	defer cancel()
	m := &nats.Msg{Subject: claimSubject(p.r.opts.Namespace, n, p.count), Header: nats.Header{headerClaim: []string{"1"}}}
	_, err := p.r.js.PublishMsg(ctx, m)
	if err != nil {
		p.r.opts.Logger.Debug("natscluster: runtime cannot publish a partition's claim message", "partition", n, "err", err)
	}
	return err
}
