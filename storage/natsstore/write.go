package natsstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/storage/internal/codec"
)

// Write implements zocket.Storage. The Writes of distinct instances are
// published together; a second Write of an instance in the batch waits
// for the first one's ack, since it must follow it.
func (s *Store) Write(ctx context.Context, batch []zocket.Write) []error {
	errs := make([]error, len(batch))
	err := s.checkOpen()
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	pending := make([]int, len(batch))
	for i := range pending {
		pending[i] = i
	}
	for len(pending) > 0 {
		var round, later []int
		seen := make(map[instanceKey]bool, len(pending))
		for _, i := range pending {
			k := instanceKey{batch[i].Actor, batch[i].ID}
			if seen[k] {
				later = append(later, i)
				continue
			}
			seen[k] = true
			round = append(round, i)
		}
		s.writeRound(ctx, batch, round, errs)
		pending = later
	}
	if slices.ContainsFunc(errs, func(err error) bool { return err != nil }) {
		return errs
	}
	return nil
}

// publication is one Write of a round on its way to the log.
type publication struct {
	w    *zocket.Write
	k    instanceKey
	base known // what the log holds before the Write
	msg  *nats.Msg
	obj  string // the object of the bucket holding the Write, if any
	ack  jetstream.PubAckFuture
	seq  uint64 // the acked sequence
	err  *error // where the Write's result goes
}

// writeRound writes Writes of distinct instances: it checks each against
// the log, publishes them all, awaits their acks, then updates the alarms
// indexes and purges the deleted instances.
func (s *Store) writeRound(ctx context.Context, batch []zocket.Write, round []int, errs []error) {
	var pubs []*publication
	for _, i := range round {
		p, err := s.prepare(ctx, &batch[i])
		if err != nil {
			errs[i] = err
			s.forget(instanceKey{batch[i].Actor, batch[i].ID})
			continue
		}
		if p != nil {
			p.err = &errs[i]
			pubs = append(pubs, p)
		}
	}
	for _, p := range pubs {
		ack, err := s.js.PublishMsgAsync(p.msg,
			jetstream.WithExpectLastSequencePerSubject(p.base.seq), jetstream.WithStallWait(s.opts.Timeout))
		if err != nil {
			*p.err = fmt.Errorf("natsstore: write %s/%s: %w", p.k.actor, p.k.id, err)
			s.dropObject(ctx, p) // never sent
		}
		p.ack = ack
	}
	committed := pubs[:0]
	for _, p := range pubs {
		if *p.err == nil {
			p.seq, *p.err = s.await(ctx, p.k, p.ack)
			if errors.Is(*p.err, zocket.ErrConflict) {
				s.dropObject(ctx, p) // refused
			}
		}
		if *p.err != nil {
			s.forget(p.k) // the log may hold it or not: read it again
			continue
		}
		committed = append(committed, p)
	}
	s.afterCommit(ctx, committed)
}

// prepare checks w against what the log holds and builds its message; nil
// when w stores nothing.
func (s *Store) prepare(ctx context.Context, w *zocket.Write) (*publication, error) {
	k := instanceKey{w.Actor, w.ID}
	if !w.Delete {
		if err := w.Check(); err != nil {
			return nil, err
		}
	}
	base, err := s.base(ctx, k, w.Expect)
	if err != nil {
		return nil, err
	}
	if base.version != w.Expect {
		return nil, fmt.Errorf("%w: %s/%s is at version %d, not %d", zocket.ErrConflict, k.actor, k.id, base.version, w.Expect)
	}
	m := logMsg{version: w.Version(), snapshot: w.Snapshot, records: w.Records, hasAlarms: w.SetAlarms, alarms: w.Alarms}
	switch {
	case w.Delete && base.seq == 0:
		return nil, nil
	case w.Delete:
		m = logMsg{tombstone: true}
	case w.Snapshot == nil && len(w.Records) == 0 && !w.SetAlarms:
		return nil, nil
	case w.Snapshot != nil && !w.SetAlarms:
		// The rollup drops the message that set the alarms: repeat them.
		m.hasAlarms, m.alarms = true, base.alarms
	}
	p := &publication{w: w, k: k, base: base, msg: nats.NewMsg(s.logSubject(k))}
	p.msg.Data = m.encode()
	if len(p.msg.Data) > s.maxBody() {
		ref, err := s.putObject(ctx, k, m.version, p.msg.Data)
		if err != nil {
			return nil, err
		}
		p.obj, p.msg.Data = ref.name, refTo(&m, ref).encode()
	}
	if m.snapshot != nil || m.tombstone {
		p.msg.Header.Set(jetstream.MsgRollup, jetstream.MsgRollupSubject)
	}
	return p, nil
}

// dropObject deletes the object of a Write that the log refused, best
// effort.
func (s *Store) dropObject(ctx context.Context, p *publication) {
	if p.obj != "" {
		s.deleteObjects(ctx, p.k, []string{p.obj})
	}
}

// base returns what the log of k holds, reading it unless the Store knows
// it at version expect.
func (s *Store) base(ctx context.Context, k instanceKey, expect uint64) (known, error) {
	if kn, ok := s.lookup(k); ok && kn.version == expect {
		return kn, nil
	}
	_, kn, err := s.readLog(ctx, k)
	if err != nil {
		return known{}, err
	}
	s.remember(k, kn)
	return kn, nil
}

// await returns the sequence of the message of k acked by ack, or why it
// was not stored.
func (s *Store) await(ctx context.Context, k instanceKey, ack jetstream.PubAckFuture) (uint64, error) {
	select {
	case a := <-ack.Ok():
		return a.Sequence, nil
	case err := <-ack.Err():
		if isWrongLastSequence(err) {
			return 0, fmt.Errorf("%w: %s/%s was written by another writer: %w", zocket.ErrConflict, k.actor, k.id, err)
		}
		return 0, fmt.Errorf("natsstore: write %s/%s: %w", k.actor, k.id, err)
	case <-ctx.Done():
		select {
		case a := <-ack.Ok(): // it came at the same time
			return a.Sequence, nil
		default:
		}
		return 0, fmt.Errorf("natsstore: write %s/%s: no ack: %w", k.actor, k.id, ctx.Err())
	}
}

func isWrongLastSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// afterCommit remembers the committed Writes, then brings the alarms
// indexes up to date and purges deleted instances. Its failures do not
// fail the Writes, which are stored: they are logged, and a stale index is
// written again with the instance's next Write.
func (s *Store) afterCommit(ctx context.Context, committed []*publication) {
	type indexUpdate struct {
		k   instanceKey
		ack jetstream.PubAckFuture
	}
	var updates []indexUpdate
	for _, p := range committed {
		if p.w.Delete {
			s.purge(ctx, p)
			continue
		}
		kn := known{seq: p.seq, version: p.w.Version(), alarms: p.base.alarms, objects: p.base.objects}
		if p.w.Snapshot != nil {
			// The rollup dropped the messages that referred to them.
			s.deleteObjects(ctx, p.k, p.base.objects)
			kn.objects = nil
		}
		if p.obj != "" {
			kn.objects = withObject(kn.objects, p.obj)
		}
		if p.w.SetAlarms {
			kn.alarms = cloneAlarms(p.w.Alarms)
		}
		s.remember(p.k, kn)
		if !p.w.SetAlarms && !s.isStaleIndex(p.k) {
			continue
		}
		msg := nats.NewMsg(s.alarmsSubject(p.k))
		if len(kn.alarms) > 0 {
			msg.Data = codec.AppendAlarms(nil, kn.alarms, optional)
		}
		msg.Header.Set(jetstream.MsgRollup, jetstream.MsgRollupSubject)
		ack, err := s.js.PublishMsgAsync(msg, jetstream.WithStallWait(s.opts.Timeout))
		if err != nil {
			s.indexFailed(p.k, err)
			continue
		}
		updates = append(updates, indexUpdate{p.k, ack})
	}
	for _, u := range updates {
		if _, err := s.await(ctx, u.k, u.ack); err != nil {
			s.indexFailed(u.k, err)
			continue
		}
		s.setStaleIndex(u.k, false)
	}
}

func (s *Store) indexFailed(k instanceKey, err error) {
	s.opts.Logger.Warn("natsstore: alarms index not written", "actor", k.actor, "id", k.id, "error", err)
	s.setStaleIndex(k, true)
}

// purge removes the alarms index of a deleted instance, then its log up to
// and including the tombstone. A Write stored after the tombstone stays.
func (s *Store) purge(ctx context.Context, p *publication) {
	s.forget(p.k)
	s.setStaleIndex(p.k, false)
	err := s.stream.Purge(ctx, jetstream.WithPurgeSubject(s.alarmsSubject(p.k)), jetstream.WithPurgeSequence(p.seq))
	if err == nil {
		err = s.stream.Purge(ctx, jetstream.WithPurgeSubject(s.logSubject(p.k)), jetstream.WithPurgeSequence(p.seq+1))
	}
	if err != nil {
		s.opts.Logger.Warn("natsstore: purge of a deleted instance", "actor", p.k.actor, "id", p.k.id, "error", err)
	}
	s.deleteObjects(ctx, p.k, p.base.objects)
}

func cloneAlarms(as []zocket.Alarm) []zocket.Alarm {
	out := slices.Clone(as)
	for i := range out {
		out[i].Input = bytes.Clone(out[i].Input)
	}
	return out
}
