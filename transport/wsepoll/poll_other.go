//go:build unix && !linux

package wsepoll

import "log/slog"

// newEpoll: there is no epoll here; each connection gets a goroutine.
func newEpoll(*slog.Logger, func(int32) *conn) (poller, error) { return goroutinePoller{}, nil }
