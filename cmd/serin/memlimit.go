package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"
	"runtime/debug"
	"strconv"
	"strings"
)

// memoryLimitShare is the part of the container's memory limit the Go heap
// may grow to before the collector works harder to stay under it. The rest
// is for what the runtime does not count against GOMEMLIMIT's target in time
// (stacks, fragmentation, the page cache of the binary) and for spikes.
const memoryLimitShare = 0.9

// setMemoryLimit gives the Go runtime a soft memory limit derived from the
// cgroup's, unless GOMEMLIMIT sets one. Without it, the collector lets the
// heap grow to twice what is live (GOGC=100) whatever the container's limit:
// at 10,000 canaries the operator peaked at 725 MiB, over the manifests'
// 512 MiB, so the kernel would have killed it at its busiest. With a soft
// limit the collector runs more often near the limit instead. It returns the limit set (0: none) and the
// cgroup's.
func setMemoryLimit(root fs.FS, getenv func(string) string) (soft, cgroup int64, err error) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, 0, nil // the runtime already took it
	}
	cgroup, err = cgroupMemoryLimit(root)
	if err != nil || cgroup <= 0 {
		return 0, cgroup, err
	}
	soft = int64(float64(cgroup) * memoryLimitShare)
	debug.SetMemoryLimit(soft)
	return soft, cgroup, nil
}

// cgroupMemoryLimit reads the memory limit of the process' cgroup from root
// (the file system's root, for /proc/self/cgroup and /sys/fs/cgroup): cgroup v2's
// memory.max or v1's memory.limit_in_bytes. It returns 0 when there is no
// limit or no cgroup memory controller. A container usually sees its own
// cgroup at the hierarchy's root; a process on a host sees the path named in
// /proc/self/cgroup.
func cgroupMemoryLimit(root fs.FS) (int64, error) {
	v2, v1, err := cgroupPaths(root)
	if err != nil {
		return 0, err
	}
	var candidates []string
	if v1 != "" {
		candidates = append(candidates, path.Join("sys/fs/cgroup/memory", v1, "memory.limit_in_bytes"), "sys/fs/cgroup/memory/memory.limit_in_bytes")
	}
	if v2 != "" {
		candidates = append(candidates, path.Join("sys/fs/cgroup", v2, "memory.max"), path.Join("sys/fs/cgroup/unified", v2, "memory.max"), "sys/fs/cgroup/memory.max")
	}
	for _, name := range candidates {
		b, err := fs.ReadFile(root, name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, err
		}
		return parseMemoryLimit(strings.TrimSpace(string(b)))
	}
	return 0, nil
}

// cgroupPaths returns the process' cgroup v2 path and its v1 memory
// controller's path from proc/self/cgroup ("" where absent).
func cgroupPaths(root fs.FS) (v2, v1 string, err error) {
	f, err := root.Open("proc/self/cgroup")
	if errors.Is(err, fs.ErrNotExist) {
		return "", "", nil
	}
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		// hierarchy-ID:controller-list:cgroup-path
		parts := strings.SplitN(s.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			v2 = parts[2]
		case containsController(parts[1], "memory"):
			v1 = parts[2]
		}
	}
	return v2, v1, s.Err()
}

func containsController(list, name string) bool {
	for _, c := range strings.Split(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}

// parseMemoryLimit parses a cgroup limit: bytes, or v2's "max". cgroup v1
// says "no limit" with a huge number (the largest page-aligned int64), so
// anything from 2^62 on counts as none.
func parseMemoryLimit(s string) (int64, error) {
	if s == "max" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cgroup memory limit %q: %w", s, err)
	}
	if n >= 1<<62 || n > math.MaxInt64 {
		return 0, nil
	}
	return int64(n), nil
}

// hostRoot is the file system root as an fs.FS, for setMemoryLimit.
func hostRoot() fs.FS { return os.DirFS("/") }
