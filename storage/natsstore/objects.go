package natsstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"
)

// headerRoom is what the Store leaves out of the connection's max payload
// for the headers of a log message (rollup, expected sequence).
const headerRoom = 1024

// bucketName is the Object Store bucket of a stream's large Writes.
func bucketName(stream string) string { return stream + "_LARGE" }

// objectRef is what a log message holds instead of a body kept in the
// bucket: the object's name, size and SHA-256 digest.
type objectRef struct {
	name   string
	size   uint64
	digest [sha256.Size]byte
}

// maxBody is the largest body the Store publishes in a log message.
func (s *Store) maxBody() int {
	if s.opts.MaxMessage > 0 {
		return s.opts.MaxMessage
	}
	if nc := s.js.Conn(); nc != nil && nc.MaxPayload() > 0 {
		return int(nc.MaxPayload()) - headerRoom
	}
	return 1<<20 - headerRoom
}

// putObject stores the body of a Write of k at version in the bucket,
// under a name no other Write uses.
func (s *Store) putObject(ctx context.Context, k instanceKey, version uint64, body []byte) (objectRef, error) {
	var suffix [8]byte
	_, _ = rand.Read(suffix[:]) // never fails
	ref := objectRef{
		name:   token(k.actor) + "." + token(k.id) + "." + strconv.FormatUint(version, 10) + "." + hex.EncodeToString(suffix[:]),
		size:   uint64(len(body)),
		digest: sha256.Sum256(body),
	}
	if _, err := s.objects.PutBytes(ctx, ref.name, body); err != nil {
		return objectRef{}, fmt.Errorf("natsstore: write %s/%s: object %s: %w", k.actor, k.id, ref.name, err)
	}
	return ref, nil
}

// errObjectUnread wraps the errors of a reference whose object could not
// be read, rather than was found missing or wrong.
var errObjectUnread = errors.New("object not read")

// resolve returns the Write that the reference message m refers to. Its
// errors mean that the log is corrupt: the bucket lacks the object or it
// is not the one referred to, unless they wrap errObjectUnread.
func (s *Store) resolve(ctx context.Context, m *logMsg) (*logMsg, error) {
	body, err := s.objects.GetBytes(ctx, m.ref.name)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, fmt.Errorf("object %s is missing", m.ref.name)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", errObjectUnread, m.ref.name, err)
	}
	if uint64(len(body)) != m.ref.size || sha256.Sum256(body) != m.ref.digest {
		return nil, fmt.Errorf("object %s is not the one stored (%d bytes)", m.ref.name, len(body))
	}
	inner, err := decodeLog(body)
	if err == nil && (inner.ref != nil || inner.version != m.version || (inner.snapshot != nil) != m.rollup) {
		err = errors.New("its contents disagree with the message")
	}
	if err != nil {
		return nil, fmt.Errorf("object %s: %w", m.ref.name, err)
	}
	return inner, nil
}

// deleteObjects deletes the objects of k named, best effort: an object
// left is logged and stays in the bucket.
func (s *Store) deleteObjects(ctx context.Context, k instanceKey, names []string) {
	for _, name := range names {
		if err := s.objects.Delete(ctx, name); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
			s.opts.Logger.Warn("natsstore: object not deleted", "actor", k.actor, "id", k.id, "object", name, "error", err)
		}
	}
}

// withObject appends name to the objects of a log, sharing no memory
// with names.
func withObject(names []string, name string) []string {
	return append(names[:len(names):len(names)], name)
}
