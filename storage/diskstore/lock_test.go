package diskstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zocket-go/zocket/storage/diskstore"
)

func TestOpen_OfADirectoryOpenInThisProcessFailsWithErrLocked(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	_, err := diskstore.Open(dir, diskstore.Options{})
	require.ErrorIs(t, err, diskstore.ErrLocked)

	// Another spelling of the same directory is the same directory.
	_, err = diskstore.Open(filepath.Join(dir, ".", "..", filepath.Base(dir)), diskstore.Options{})
	require.ErrorIs(t, err, diskstore.ErrLocked)

	require.NoError(t, s.Close())
	open(t, dir) // released by Close
}

// lockHelperEnv names the directory that the test binary, run again as a
// subprocess, tries to open.
const lockHelperEnv = "DISKSTORE_LOCK_HELPER_DIR"

func TestOpen_OfADirectoryOpenInAnotherProcessFailsWithErrLocked(t *testing.T) {
	dir := t.TempDir()
	open(t, dir)
	// The timeout only guards against a hanging helper; passing does not
	// depend on it.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestLockHelperProcess$")
	cmd.Env = append(os.Environ(), lockHelperEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "locked: true")
}

// TestLockHelperProcess is the subprocess of the test above; it does
// nothing in a normal run.
func TestLockHelperProcess(t *testing.T) {
	dir := os.Getenv(lockHelperEnv)
	if dir == "" {
		t.Skip("run as a subprocess by TestOpen_OfADirectoryOpenInAnotherProcessFailsWithErrLocked")
	}
	s, err := diskstore.Open(dir, diskstore.Options{})
	if err == nil {
		_ = s.Close()
	}
	fmt.Printf("locked: %v (%v)\n", errors.Is(err, diskstore.ErrLocked), err)
}
