package proc

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStopAllTermsThenKills(t *testing.T) {
	dir := t.TempDir()
	polite, err := Start("polite", filepath.Join(dir, "polite.log"), "sleep", "60")
	require.NoError(t, err)
	// Ignores SIGTERM, like a component stuck in shutdown (an ignored signal stays ignored
	// across exec, and exec leaves no grandchild behind).
	stubborn, err := Start("stubborn", filepath.Join(dir, "stubborn.log"), "bash", "-c", `trap "" TERM; echo started; exec sleep 60`)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return strings.Contains(LogTail(stubborn.LogPath(), 100), "started") }, 5*time.Second, 10*time.Millisecond)

	began := time.Now()
	require.NoError(t, StopAll([]*Process{polite, stubborn}, 300*time.Millisecond))
	assert.Less(t, time.Since(began), 3*time.Second)
	for _, p := range []*Process{polite, stubborn} {
		assert.ErrorIs(t, syscall.Kill(p.PID(), 0), syscall.ESRCH, p.Name())
	}
	assert.ErrorContains(t, polite.ExitErr(), "signal: terminated")
	assert.ErrorContains(t, stubborn.ExitErr(), "signal: killed")
}

func TestStopReapsAndIsIdempotent(t *testing.T) {
	p, err := Start("sleeper", filepath.Join(t.TempDir(), "sleeper.log"), "sleep", "60")
	require.NoError(t, err)
	assert.NoError(t, p.ExitErr(), "no exit error while running")
	require.NoError(t, p.Stop(5*time.Second))
	select {
	case <-p.Exited():
	default:
		t.Fatal("Exited is open after Stop returned")
	}
	assert.NoError(t, p.Stop(5*time.Second), "stopping an exited process")
}

func TestFailureEndsWithTheLogTail(t *testing.T) {
	p, err := Start("broken", filepath.Join(t.TempDir(), "broken.log"), "bash", "-c", "echo starting; echo 'fatal: no config' >&2; exit 3")
	require.NoError(t, err)
	select {
	case <-p.Exited():
	case <-time.After(5 * time.Second):
		t.Fatal("the process did not exit")
	}
	err = p.Failure("exited before it was ready (%v)", p.ExitErr())
	assert.EqualError(t, err, "broken exited before it was ready (exit status 3); log "+p.LogPath()+
		" ends with:\nstarting\nfatal: no config")
}

func TestStartNamesTheProcessItCannotStart(t *testing.T) {
	_, err := Start("ghost", filepath.Join(t.TempDir(), "ghost.log"), filepath.Join(t.TempDir(), "missing"))
	assert.ErrorContains(t, err, "starting ghost:")
}

func TestLogTailStartsAtALineBoundary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.log")
	require.NoError(t, os.WriteFile(path, []byte("first line\nsecond line\nthird\n"), 0o644))
	assert.Equal(t, "third", LogTail(path, 10))
	assert.Equal(t, "first line\nsecond line\nthird", LogTail(path, 1000))
	require.NoError(t, os.WriteFile(path, nil, 0o644))
	assert.Equal(t, "(log is empty)", LogTail(path, 10))
	assert.Contains(t, LogTail(filepath.Join(t.TempDir(), "none.log"), 10), "(cannot read log:")
}
