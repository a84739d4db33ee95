package natsstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/zocket-go/zocket"
)

// Load implements zocket.Storage.
func (s *Store) Load(ctx context.Context, actor, id string) (zocket.Stored, error) {
	if err := s.checkOpen(); err != nil {
		return zocket.Stored{}, err
	}
	k := instanceKey{actor, id}
	st, kn, err := s.readLog(ctx, k)
	if err != nil {
		return zocket.Stored{}, err
	}
	s.remember(k, kn)
	return st, nil
}

// readLog reads the log of k. A log rolled up or purged while it is read
// is read again, a few times.
func (s *Store) readLog(ctx context.Context, k instanceKey) (zocket.Stored, known, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		st, kn, err := s.readLogOnce(ctx, k)
		if !errors.Is(err, errLogChanged) || attempt == 3 {
			return st, kn, err
		}
	}
}

// errLogChanged: messages older than the log's last one were dropped while
// it was read.
var errLogChanged = errors.New("log changed while read")

// readLogOnce reads the last message of the log of k then, unless that one
// starts the state (a snapshot or a tombstone), the messages before it
// from the first, which is the latest snapshot: one direct get per message.
func (s *Store) readLogOnce(ctx context.Context, k instanceKey) (zocket.Stored, known, error) {
	subject := s.logSubject(k)
	fail := func(err error) (zocket.Stored, known, error) {
		return zocket.Stored{}, known{}, fmt.Errorf("natsstore: load %s/%s: %w", k.actor, k.id, err)
	}
	corrupt := func(seq uint64, err error) (zocket.Stored, known, error) {
		return zocket.Stored{}, known{}, fmt.Errorf("%w: %s/%s, message %d: %v", ErrCorrupt, k.actor, k.id, seq, err)
	}
	last, err := s.stream.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return zocket.Stored{}, known{}, nil
	}
	if err != nil {
		return fail(err)
	}
	// The log holds the messages from its latest snapshot on: all the
	// objects they refer to are its.
	var objects []string
	read := func(data []byte) (*logMsg, error) {
		m, err := decodeLog(data)
		if err != nil || m.ref == nil {
			return m, err
		}
		objects = append(objects, m.ref.name)
		return s.resolve(ctx, m)
	}
	readFail := func(seq uint64, err error) (zocket.Stored, known, error) {
		if errors.Is(err, errObjectUnread) {
			return fail(err)
		}
		// Another process may have rolled up the log and deleted the
		// objects of its older messages meanwhile.
		now, nowErr := s.stream.GetLastMsgForSubject(ctx, subject)
		if errors.Is(nowErr, jetstream.ErrMsgNotFound) || (nowErr == nil && now.Sequence != last.Sequence) {
			return fail(errLogChanged)
		}
		return corrupt(seq, err)
	}
	lastMsg, err := read(last.Data)
	if err != nil {
		return readFail(last.Sequence, err)
	}
	var st zocket.Stored
	for seq := uint64(1); lastMsg.snapshot == nil && !lastMsg.tombstone; {
		msg, err := s.stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subject))
		if errors.Is(err, jetstream.ErrMsgNotFound) || (err == nil && msg.Sequence > last.Sequence) {
			return fail(errLogChanged)
		}
		if err != nil {
			return fail(err)
		}
		if msg.Sequence == last.Sequence {
			break
		}
		m, err := read(msg.Data)
		if err != nil {
			return readFail(msg.Sequence, err)
		}
		if err := apply(&st, m); err != nil {
			return corrupt(msg.Sequence, err)
		}
		seq = msg.Sequence + 1
	}
	if err := apply(&st, lastMsg); err != nil {
		return corrupt(last.Sequence, err)
	}
	return st, known{seq: last.Sequence, version: st.Version, alarms: cloneAlarms(st.Alarms), objects: objects}, nil
}

// apply adds the Write of m to st.
func apply(st *zocket.Stored, m *logMsg) error {
	switch {
	case m.tombstone:
		*st = zocket.Stored{}
		return nil
	case m.snapshot != nil:
		st.Snapshot, st.Records = m.snapshot, nil
	case len(m.records) > 0 && m.records[0].Version != st.Version+1:
		return fmt.Errorf("records from version %d follow version %d", m.records[0].Version, st.Version)
	case len(m.records) == 0 && m.version != st.Version:
		return fmt.Errorf("version %d without records follows version %d", m.version, st.Version)
	}
	st.Records = append(st.Records, m.records...)
	st.Version = m.version
	if m.hasAlarms {
		st.Alarms = m.alarms
	}
	return nil
}

// Alarms implements zocket.Storage. It reads the last message of every
// alarms subject with an ephemeral consumer, deleted when done. It skips
// (and logs) the messages it cannot decode.
func (s *Store) Alarms(ctx context.Context) ([]zocket.InstanceAlarms, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	filter := s.opts.Prefix + ".alarms.>"
	cons, err := s.stream.CreateConsumer(ctx, jetstream.ConsumerConfig{
		DeliverPolicy:     jetstream.DeliverLastPerSubjectPolicy,
		AckPolicy:         jetstream.AckNonePolicy,
		FilterSubject:     filter,
		InactiveThreshold: s.opts.Timeout,
		MemoryStorage:     true,
		Replicas:          1,
	})
	if err != nil {
		return nil, fmt.Errorf("natsstore: alarms: %w", err)
	}
	defer func() {
		// Should this fail, the server deletes the consumer once inactive.
		if err := s.stream.DeleteConsumer(ctx, cons.CachedInfo().Name); err != nil {
			s.opts.Logger.Warn("natsstore: delete alarms consumer", "error", err)
		}
	}()
	var out []zocket.InstanceAlarms
	for pending := cons.CachedInfo().NumPending; pending > 0; {
		batch, err := cons.FetchNoWait(int(min(pending, 1000)))
		if err != nil {
			return nil, fmt.Errorf("natsstore: alarms: %w", err)
		}
		n := 0
		for msg := range batch.Messages() {
			n++
			md, err := msg.Metadata()
			if err != nil {
				return nil, fmt.Errorf("natsstore: alarms: %w", err)
			}
			pending = md.NumPending
			ia, err := s.decodeIndex(msg.Subject(), msg.Data())
			if err != nil {
				// The index only says when to look at an instance: one bad
				// message must not hide the alarms of all the others.
				s.opts.Logger.Error("natsstore: undecodable alarms index skipped",
					"subject", msg.Subject(), "sequence", md.Sequence.Stream, "error", fmt.Errorf("%w: %v", ErrCorrupt, err))
				continue
			}
			if len(ia.Alarms) > 0 {
				out = append(out, ia)
			}
		}
		if err := batch.Error(); err != nil {
			return nil, fmt.Errorf("natsstore: alarms: %w", err)
		}
		if n == 0 { // the rest was purged meanwhile
			break
		}
	}
	return out, nil
}

// decodeIndex decodes a message of an alarms subject.
func (s *Store) decodeIndex(subject string, data []byte) (zocket.InstanceAlarms, error) {
	rest, ok := strings.CutPrefix(subject, s.opts.Prefix+".alarms.")
	actorTok, idTok, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 {
		return zocket.InstanceAlarms{}, errors.New("not an alarms subject")
	}
	actor, err := untoken(actorTok)
	if err != nil {
		return zocket.InstanceAlarms{}, err
	}
	id, err := untoken(idTok)
	if err != nil {
		return zocket.InstanceAlarms{}, err
	}
	alarms, err := decodeAlarms(data)
	return zocket.InstanceAlarms{Actor: actor, ID: id, Alarms: alarms}, err
}
