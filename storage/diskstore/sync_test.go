package diskstore

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket"
)

// walSyncs is a file system that counts the syncs of write-ahead log files.
type walSyncs struct {
	vfs.FS
	n atomic.Int64
}

func (fs *walSyncs) wrap(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil || !strings.HasSuffix(name, ".log") {
		return f, err
	}
	return &countedFile{File: f, n: &fs.n}, nil
}

func (fs *walSyncs) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, c)
	return fs.wrap(name, f, err)
}

func (fs *walSyncs) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, c)
	return fs.wrap(newname, f, err)
}

type countedFile struct {
	vfs.File
	n *atomic.Int64
}

func (f *countedFile) Sync() error {
	f.n.Add(1)
	return f.File.Sync()
}

func (f *countedFile) SyncData() error {
	f.n.Add(1)
	return f.File.SyncData()
}

func (f *countedFile) SyncTo(length int64) (bool, error) {
	f.n.Add(1)
	return f.File.SyncTo(length)
}

func TestWrite_SyncsOncePerCallWhateverTheNumberOfInstances(t *testing.T) {
	fs := &walSyncs{FS: vfs.Default}
	s, err := Open(t.TempDir(), Options{fs: fs})
	require.NoError(t, err)
	defer s.Close()

	batch := make([]zocket.Write, 64)
	for i := range batch {
		batch[i] = zocket.Write{Actor: "room", ID: fmt.Sprint(i),
			Snapshot: &zocket.Snapshot{Version: 1, State: json.RawMessage(`{}`)}}
	}
	before := fs.n.Load()
	require.Nil(t, s.Write(t.Context(), batch))
	require.EqualValues(t, 1, fs.n.Load()-before, "syncs for one Write of 64 instances")

	before = fs.n.Load()
	for i := range batch {
		batch[i].Expect, batch[i].Snapshot = 1, nil
		batch[i].Records = []zocket.Record{{Version: 2, Patch: json.RawMessage(`[]`)}}
		require.Nil(t, s.Write(t.Context(), batch[i:i+1]))
	}
	require.EqualValues(t, len(batch), fs.n.Load()-before, "syncs for one Write per instance")
}
