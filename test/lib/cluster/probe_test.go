package cluster

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/serin-dev/serin/test/lib/proc"
)

func TestWaitReadyFailsFastWithTheLogTail(t *testing.T) {
	p, err := proc.Start("broken", filepath.Join(t.TempDir(), "broken.log"), "bash", "-c", "echo 'listen tcp 127.0.0.1:1: bind: address already in use' >&2; exit 3")
	require.NoError(t, err)
	began := time.Now()
	err = waitReady(t.Context(), p, time.Minute, func(context.Context) error { return os.ErrNotExist })
	assert.Less(t, time.Since(began), 5*time.Second)
	assert.ErrorContains(t, err, "broken exited before it was ready (exit status 3)")
	assert.ErrorContains(t, err, "bind: address already in use")
	assert.ErrorIs(t, err, errPortInUse)
}

func TestWaitReadyTimesOutWithTheLastProbeError(t *testing.T) {
	p, err := proc.Start("slow", filepath.Join(t.TempDir(), "slow.log"), "sleep", "60")
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Stop(time.Second) })
	err = waitReady(t.Context(), p, 200*time.Millisecond, func(context.Context) error { return os.ErrNotExist })
	assert.ErrorContains(t, err, "slow was not ready within 200ms")
	assert.ErrorContains(t, err, "last probe: file does not exist")
	assert.NotErrorIs(t, err, errPortInUse)
}
