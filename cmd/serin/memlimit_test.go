package main

import (
	"runtime/debug"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

func TestCgroupMemoryLimit(t *testing.T) {
	tests := map[string]struct {
		fs   fstest.MapFS
		want int64
	}{
		"v2 in a container": {fs: fstest.MapFS{
			"proc/self/cgroup":         file("0::/\n"),
			"sys/fs/cgroup/memory.max": file("536870912\n"),
		}, want: 512 << 20},
		"v2 without a limit": {fs: fstest.MapFS{
			"proc/self/cgroup":         file("0::/\n"),
			"sys/fs/cgroup/memory.max": file("max\n"),
		}},
		"v2 on a host, in a nested cgroup": {fs: fstest.MapFS{
			"proc/self/cgroup": file("0::/system.slice/serin.service\n"),
			"sys/fs/cgroup/system.slice/serin.service/memory.max": file("268435456"),
			"sys/fs/cgroup/memory.max":                            file("max"),
		}, want: 256 << 20},
		"v1 with a path": {fs: fstest.MapFS{
			"proc/self/cgroup": file("9:name=systemd:/\n4:memory:/bench/serin\n1:cpu,cpuacct:/\n0::/\n"),
			"sys/fs/cgroup/memory/bench/serin/memory.limit_in_bytes": file("536870912\n"),
		}, want: 512 << 20},
		"v1 in a container, its cgroup at the root": {fs: fstest.MapFS{
			"proc/self/cgroup":                           file("4:memory:/kubepods/pod1/abc\n"),
			"sys/fs/cgroup/memory/memory.limit_in_bytes": file("1073741824\n"),
		}, want: 1 << 30},
		"v1 unlimited": {fs: fstest.MapFS{
			"proc/self/cgroup":                           file("4:memory:/\n"),
			"sys/fs/cgroup/memory/memory.limit_in_bytes": file("9223372036854771712\n"),
		}},
		"no cgroups": {fs: fstest.MapFS{}},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := cgroupMemoryLimit(tt.fs)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestCgroupMemoryLimitGarbage(t *testing.T) {
	_, err := cgroupMemoryLimit(fstest.MapFS{
		"proc/self/cgroup":         file("0::/\n"),
		"sys/fs/cgroup/memory.max": file("lots\n"),
	})
	require.ErrorContains(t, err, `cgroup memory limit "lots"`)
}

func TestSetMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	root := fstest.MapFS{"proc/self/cgroup": file("0::/\n"), "sys/fs/cgroup/memory.max": file("536870912")}

	soft, limit, err := setMemoryLimit(root, func(string) string { return "" })
	require.NoError(t, err)
	assert.Equal(t, int64(512<<20), limit)
	assert.Equal(t, int64(483183820), soft, "90%")
	assert.Equal(t, soft, debug.SetMemoryLimit(-1), "the runtime has the soft limit")

	debug.SetMemoryLimit(before)
	soft, _, err = setMemoryLimit(root, func(k string) string {
		if k == "GOMEMLIMIT" {
			return "300MiB"
		}
		return ""
	})
	require.NoError(t, err)
	assert.Zero(t, soft, "GOMEMLIMIT wins")
	assert.Equal(t, before, debug.SetMemoryLimit(-1))
}
