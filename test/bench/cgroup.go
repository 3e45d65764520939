package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// memoryCgroup is a memory cgroup the bench makes for the operator, with
// the limit the manifests give its container, so that a run measures the
// operator as it runs in a cluster: the kernel kills it past the limit, and
// Serin reads the limit to set its Go soft memory limit (cmd/serin).
type memoryCgroup struct {
	dir   string
	limit int64
}

// newMemoryCgroup makes a child of the bench's own memory cgroup (cgroup v2,
// or v1's memory controller) limited to limit bytes. It needs root.
func newMemoryCgroup(name string, limit int64) (*memoryCgroup, error) {
	parent, file, err := ownMemoryCgroup()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(parent, name)
	if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
		return nil, fmt.Errorf("memory cgroup: %w (run as root, or -memory-limit 0)", err)
	}
	if err := os.WriteFile(filepath.Join(dir, file), []byte(strconv.FormatInt(limit, 10)), 0o644); err != nil {
		_ = os.Remove(dir)
		return nil, fmt.Errorf("memory cgroup limit: %w", err)
	}
	return &memoryCgroup{dir: dir, limit: limit}, nil
}

// ownMemoryCgroup returns the directory of the process' memory cgroup and
// the name of its limit file there.
func ownMemoryCgroup() (dir, limitFile string, err error) {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	var v2 string
	s := bufio.NewScanner(f)
	for s.Scan() {
		parts := strings.SplitN(s.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			v2 = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == "memory" {
				return filepath.Join("/sys/fs/cgroup/memory", parts[2]), "memory.limit_in_bytes", nil
			}
		}
	}
	if err := s.Err(); err != nil {
		return "", "", err
	}
	for _, mount := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		dir := filepath.Join(mount, v2)
		if _, err := os.Stat(filepath.Join(dir, "memory.max")); err == nil {
			return dir, "memory.max", nil
		}
	}
	return "", "", fmt.Errorf("no memory cgroup controller found in /proc/self/cgroup")
}

// wrap returns a command line that enters the cgroup, then executes bin
// with args: the operator starts inside it, and reads its limit at start.
func (c *memoryCgroup) wrap(bin string, args []string) (string, []string) {
	script := `echo $$ > "` + filepath.Join(c.dir, "cgroup.procs") + `" && exec "$0" "$@"`
	return "/bin/sh", append([]string{"-c", script, bin}, args...)
}

// remove deletes the cgroup once its processes have exited.
func (c *memoryCgroup) remove() { _ = os.Remove(c.dir) }
