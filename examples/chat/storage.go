package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"github.com/zocket-go/zocket"
	"github.com/zocket-go/zocket/examples/chat/chatroom"
	"github.com/zocket-go/zocket/storage/diskstore"
)

// storageSettings are the -data, -memory and -relaxed flags: where the
// chat server keeps its rooms across restarts.
type storageSettings struct {
	dir     string
	memory  bool
	relaxed bool
}

// storageFlags registers the flags; exampleserver.Main parses them.
func storageFlags() *storageSettings {
	s := &storageSettings{}
	flag.StringVar(&s.dir, "data", defaultDataDir(), "directory where the rooms are kept across restarts (one chat server at a time)")
	flag.BoolVar(&s.memory, "memory", false, "keep the rooms in memory only: they start empty at every start, and -data is not used")
	flag.BoolVar(&s.relaxed, "relaxed", false, "write the rooms behind (zocket.Relaxed): results leave at once, and a crash may lose the messages of the last "+
		zocket.DefaultWriteBehind.String())
	return s
}

// defaultDataDir is zocket-chat in the user's cache directory (such as
// ~/.cache/zocket-chat), which exists and is writable on a fresh machine
// and is outside any clone; in the temporary directory when there is no
// user cache directory ($HOME unset).
func defaultDataDir() string {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "zocket-chat")
}

type roomsKey struct{}

// around returns serve with the rooms' storage open in its context, where
// keeping finds it: the store is opened before serve builds its App and
// closed after serve returns, once the App has written everything. A
// directory that another chat server has open is an error that says so.
func (s *storageSettings) around(serve serveFunc) serveFunc {
	return func(ctx context.Context, ln net.Listener, log *slog.Logger) (err error) {
		if s.memory {
			log.Info("rooms are kept in memory only (-memory)")
			return serve(ctx, ln, log)
		}
		store, err := diskstore.Open(s.dir, diskstore.Options{Logger: log})
		if errors.Is(err, diskstore.ErrLocked) {
			return fmt.Errorf("another chat server is using the data directory %s: stop it, or give this one another -data (or -memory): %w", s.dir, err)
		}
		if err != nil {
			return fmt.Errorf("open the data directory: %w", err)
		}
		defer func() { err = errors.Join(err, store.Close()) }()
		log.Info("rooms are kept across restarts", "data", s.dir, "relaxed", s.relaxed)
		return serve(context.WithValue(ctx, roomsKey{}, &rooms{store: store, relaxed: s.relaxed}), ln, log)
	}
}

// rooms is how one run of serve keeps its rooms; its zero value, without
// storage, keeps them in memory.
type rooms struct {
	store   zocket.Storage
	relaxed bool
}

// keeping returns the rooms' storage the context carries.
func keeping(ctx context.Context) *rooms {
	if r, ok := ctx.Value(roomsKey{}).(*rooms); ok {
		return r
	}
	return &rooms{}
}

// appOptions returns opts with the storage, if any, as the App's.
func (r *rooms) appOptions(opts ...zocket.Option) []zocket.Option {
	if r.store != nil {
		opts = append(opts, zocket.WithStorage(r.store))
	}
	return opts
}

// actor returns the chat room actor type, Relaxed with -relaxed (Gated,
// the default, otherwise).
func (r *rooms) actor() *zocket.Actor[chatroom.State, zocket.NoData] {
	a := chatroom.Actor()
	if r.relaxed {
		a.Durability(zocket.Relaxed)
	}
	return a
}
