package cluster

import (
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stopAndAssertGone stops c and checks that none of its processes is left and that its
// directory is gone.
func stopAndAssertGone(t *testing.T, c *Cluster) {
	t.Helper()
	pids := c.PIDs()
	require.NotEmpty(t, pids)
	began := time.Now()
	require.NoError(t, c.Stop())
	t.Logf("stopped %d processes in %s", len(pids), since(began))
	for name, pid := range pids {
		assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "%s (pid %d) still exists", name, pid)
	}
	if !c.keep {
		_, err := os.Stat(c.Dir)
		assert.True(t, errors.Is(err, os.ErrNotExist), "%s still exists", c.Dir)
	}
}
