package natscluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// OutboundMaxConsumers is OUTBOUND's max_consumers. Every gateway session
// has an ordered consumer on OUTBOUND, and nats-server 2.14 and later cap a
// stream at 1,000 consumers unless the stream says otherwise, which would
// cap a deployment at 1,000 concurrent clients. (The one departure from
// the server defaults the TS streams use; TypeScript never compares
// stream configurations, so it is unaffected.)
const OutboundMaxConsumers = 1_000_000

// StreamOptions chooses how EnsureStreamsWith creates the streams. The
// zero value is what TypeScript creates.
type StreamOptions struct {
	// Partitions, when above zero, makes INBOUND store each message under
	// inbound.{ws}.{prj}.{actorType}.{partition}.{actorId}, with the
	// server's partition(Partitions) transform (see Partition), for
	// partitioned runtimes (RuntimeOptions.Partitions).
	Partitions int
	// FileStorage keeps both streams on disk instead of in memory, so
	// that messages not yet consumed survive a NATS restart. It cannot
	// change on a live stream.
	FileStorage bool
}

// StreamConfigs returns the configurations of INBOUND and OUTBOUND
// (docs/distributed.md): memory storage, one replica, INBOUND a work queue kept 60
// s, OUTBOUND limits kept 30 s (and OutboundMaxConsumers).
func StreamConfigs() []jetstream.StreamConfig { return StreamConfigsWith(StreamOptions{}) }

// StreamConfigsWith returns the configurations of INBOUND and OUTBOUND
// with o applied.
func StreamConfigsWith(o StreamOptions) []jetstream.StreamConfig {
	storage := jetstream.MemoryStorage
	if o.FileStorage {
		storage = jetstream.FileStorage
	}
	in := jetstream.StreamConfig{Name: InboundStream, Subjects: []string{"inbound.>"}, Retention: jetstream.WorkQueuePolicy, Storage: storage, MaxAge: 60 * time.Second}
	if o.Partitions > 0 {
		in.SubjectTransform = partitionTransform(o.Partitions)
	}
	return []jetstream.StreamConfig{in,
		{Name: OutboundStream, Subjects: []string{"outbound.>"}, Retention: jetstream.LimitsPolicy, Storage: storage, MaxAge: 30 * time.Second,
			MaxConsumers: OutboundMaxConsumers},
	}
}

// partitionTransform maps inbound.{ws}.{prj}.{actorType}.{actorId} to
// inbound.{ws}.{prj}.{actorType}.{partition}.{actorId}. Without token
// indexes partition() hashes the whole subject, which Partition computes
// too; with indexes it could not cover an id that spans several tokens.
func partitionTransform(n int) *jetstream.SubjectTransformConfig {
	return &jetstream.SubjectTransformConfig{Source: "inbound.*.*.*.>",
		Destination: fmt.Sprintf("inbound.{{wildcard(1)}}.{{wildcard(2)}}.{{wildcard(3)}}.{{partition(%d)}}.>", n)}
}

func transformString(t *jetstream.SubjectTransformConfig) string {
	if t == nil {
		return "none"
	}
	return t.Source + " → " + t.Destination
}

// Drift is a difference between a stream's live configuration and the one
// this package expects.
type Drift struct {
	Stream string
	Field  string
	Live   string
	Want   string
	// Fixed tells whether EnsureStreams updated the stream; retention,
	// storage and max_consumers cannot change on a live stream and are
	// only reported.
	Fixed bool
}

// String describes the drift for a log line.
func (d Drift) String() string {
	verb := "left as is"
	if d.Fixed {
		verb = "updated"
	}
	return fmt.Sprintf("stream %s: %s is %s, want %s (%s)", d.Stream, d.Field, d.Live, d.Want, verb)
}

// EnsureStreams creates INBOUND and OUTBOUND where they are missing. Where
// they exist it compares the fields this package relies on, updates the
// ones NATS lets change (subjects, max age) and reports every difference
// as a Drift. It is idempotent: a second call finds nothing to do.
func EnsureStreams(ctx context.Context, js jetstream.JetStream) ([]Drift, error) {
	return EnsureStreamsWith(ctx, js, StreamOptions{})
}

// EnsureStreamsWith is EnsureStreams with o applied. With o.Partitions it
// also compares INBOUND's subject transform, and sets it on a live stream;
// without, it leaves a live transform alone (a gateway does not need to
// know the partition count).
func EnsureStreamsWith(ctx context.Context, js jetstream.JetStream, o StreamOptions) ([]Drift, error) {
	var drifts []Drift
	for _, want := range StreamConfigsWith(o) {
		s, err := js.Stream(ctx, want.Name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			if _, err := js.CreateStream(ctx, want); err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
				return drifts, fmt.Errorf("natscluster: create stream %s: %w", want.Name, err)
			}
			continue
		}
		if err != nil {
			return drifts, fmt.Errorf("natscluster: stream %s: %w", want.Name, err)
		}
		live := s.CachedInfo().Config
		var found []Drift
		add := func(field, l, w string, fixable bool) {
			found = append(found, Drift{Stream: want.Name, Field: field, Live: l, Want: w, Fixed: fixable})
		}
		if !slices.Equal(live.Subjects, want.Subjects) {
			add("subjects", fmt.Sprint(live.Subjects), fmt.Sprint(want.Subjects), true)
		}
		if live.MaxAge != want.MaxAge {
			add("max_age", live.MaxAge.String(), want.MaxAge.String(), true)
		}
		if want.SubjectTransform != nil && (live.SubjectTransform == nil || *live.SubjectTransform != *want.SubjectTransform) {
			add("subject_transform", transformString(live.SubjectTransform), transformString(want.SubjectTransform), true)
		}
		if live.Retention != want.Retention {
			add("retention", live.Retention.String(), want.Retention.String(), false)
		}
		if live.Storage != want.Storage {
			add("storage", live.Storage.String(), want.Storage.String(), false)
		}
		if want.MaxConsumers != 0 && live.MaxConsumers != want.MaxConsumers {
			add("max_consumers", fmt.Sprint(live.MaxConsumers), fmt.Sprint(want.MaxConsumers), false)
		}
		if slices.ContainsFunc(found, func(d Drift) bool { return d.Fixed }) {
			upd := live
			upd.Subjects, upd.MaxAge = want.Subjects, want.MaxAge
			if want.SubjectTransform != nil {
				upd.SubjectTransform = want.SubjectTransform
			}
			if _, err := js.UpdateStream(ctx, upd); err != nil {
				for i := range found {
					found[i].Fixed = false
				}
				drifts = append(drifts, found...)
				return drifts, fmt.Errorf("natscluster: update stream %s: %w", want.Name, err)
			}
		}
		drifts = append(drifts, found...)
	}
	return drifts, nil
}
