package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/internal/testsupport/wstest"
)

func TestStorage_MemoryWritesNothingToTheDataDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rooms")
	url := wstest.Serve(t, (&storageSettings{dir: dir, memory: true}).around(serve))
	wstest.DialWelcome(t, url).MustCall("chat", "general", "sendMessage", map[string]any{"from": "Ann", "text": "hi"})
	_, err := os.Stat(dir)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestStorage_TheDataDirectoryIsCreatedAndHoldsTheRooms(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rooms")
	url := wstest.Serve(t, (&storageSettings{dir: dir}).around(serve))
	wstest.DialWelcome(t, url).MustCall("chat", "general", "sendMessage", map[string]any{"from": "Ann", "text": "hi"})
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.NotEmpty(t, entries)
}

func TestStorage_TheDefaultDataDirectoryIsOutsideTheWorkingDirectory(t *testing.T) {
	dir := defaultDataDir()
	assert.True(t, filepath.IsAbs(dir), dir)
	assert.Equal(t, "zocket-chat", filepath.Base(dir))
	if cache, err := os.UserCacheDir(); err == nil {
		assert.Equal(t, cache, filepath.Dir(dir))
	}
}
