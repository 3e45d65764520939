package cluster

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStopProcessesTermsThenKills(t *testing.T) {
	dir := t.TempDir()
	polite, err := startProcess("polite", filepath.Join(dir, "polite.log"), "sleep", "60")
	require.NoError(t, err)
	// Ignores SIGTERM, like a component stuck in shutdown (an ignored signal stays ignored
	// across exec, and exec leaves no grandchild behind).
	stubborn, err := startProcess("stubborn", filepath.Join(dir, "stubborn.log"), "bash", "-c", `trap "" TERM; echo started; exec sleep 60`)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return strings.Contains(logTail(stubborn.logPath, 100), "started") }, 5*time.Second, 10*time.Millisecond)

	began := time.Now()
	require.NoError(t, stopProcesses([]*process{polite, stubborn}, 300*time.Millisecond))
	assert.Less(t, time.Since(began), 3*time.Second)
	for _, p := range []*process{polite, stubborn} {
		assert.ErrorIs(t, syscall.Kill(p.pid(), 0), syscall.ESRCH, p.name)
	}
}

func TestWaitReadyFailsFastWithTheLogTail(t *testing.T) {
	p, err := startProcess("broken", filepath.Join(t.TempDir(), "broken.log"), "bash", "-c", "echo 'listen tcp 127.0.0.1:1: bind: address already in use' >&2; exit 3")
	require.NoError(t, err)
	began := time.Now()
	err = waitReady(t.Context(), p, time.Minute, func(context.Context) error { return os.ErrNotExist })
	assert.Less(t, time.Since(began), 5*time.Second)
	assert.ErrorContains(t, err, "broken exited before it was ready (exit status 3)")
	assert.ErrorContains(t, err, "bind: address already in use")
	assert.ErrorIs(t, err, errPortInUse)
}

func TestLogTailStartsAtALineBoundary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.log")
	require.NoError(t, os.WriteFile(path, []byte("first line\nsecond line\nthird\n"), 0o644))
	assert.Equal(t, "third", logTail(path, 10))
	assert.Equal(t, "first line\nsecond line\nthird", logTail(path, 1000))
	require.NoError(t, os.WriteFile(path, nil, 0o644))
	assert.Equal(t, "(log is empty)", logTail(path, 10))
}
