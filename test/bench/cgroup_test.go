package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMemoryLimitFlag(t *testing.T) {
	cfg, err := parseFlags(nil)
	require.NoError(t, err)
	assert.Equal(t, int64(512<<20), cfg.memoryLimit, "the manifests' limit by default")
	cfg, err = parseFlags([]string{"-memory-limit", "0"})
	require.NoError(t, err)
	assert.Zero(t, cfg.memoryLimit)
	_, err = parseFlags([]string{"-memory-limit", "lots"})
	assert.ErrorContains(t, err, "-memory-limit")
}

// The operator starts inside the cgroup, with its limit: what it reads at
// start (cmd/serin's soft memory limit) is the limit the bench set.
func TestMemoryCgroupHoldsTheOperator(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("memory cgroups need root")
	}
	cg, err := newMemoryCgroup("serin-bench-test", 256<<20)
	require.NoError(t, err)
	defer cg.remove()
	limitFile := "memory.limit_in_bytes"
	if _, err := os.Stat(filepath.Join(cg.dir, limitFile)); err != nil {
		limitFile = "memory.max"
	}
	bin, args := cg.wrap("/bin/sh", []string{"-c", `cat /proc/self/cgroup; cat "$1"`, "sh", filepath.Join(cg.dir, limitFile)})
	out, err := exec.Command(bin, args...).CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "serin-bench-test\n", "the command runs in the cgroup")
	assert.True(t, strings.HasSuffix(string(out), "268435456\n"), "with the limit: %s", out)
}
