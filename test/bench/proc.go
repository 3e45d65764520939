package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat; it
// is 100 on every Linux architecture Go supports.
const clockTicks = 100

// usage is what a process used during one phase.
type usage struct {
	cpu     time.Duration // user + system
	peakRSS uint64        // bytes, sampled every 250 ms
}

// procWatch samples the CPU time and resident memory of a set of processes.
type procWatch struct {
	mu           sync.Mutex
	pids         map[string]int
	start        map[string]time.Duration
	peak         map[string]uint64
	machineStart time.Duration
}

// machine is the usage key of the whole machine's busy CPU time.
const machine = "(whole machine)"

func newProcWatch(pids map[string]int) *procWatch {
	return &procWatch{pids: pids, start: map[string]time.Duration{}, peak: map[string]uint64{}}
}

// run samples the resident memory until ctx ends.
func (w *procWatch) run(ctx context.Context) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		w.mu.Lock()
		for name, pid := range w.pids {
			if rss, err := readRSS(pid); err == nil {
				w.peak[name] = max(w.peak[name], rss)
			}
		}
		w.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// begin starts a phase: CPU is counted and memory peaks are taken from now.
func (w *procWatch) begin() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for name, pid := range w.pids {
		w.start[name], _ = readCPU(pid)
		w.peak[name], _ = readRSS(pid)
	}
	w.machineStart = machineBusy()
}

// end returns each process' usage since begin.
func (w *procWatch) end() map[string]usage {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]usage{}
	for name, pid := range w.pids {
		cpu, _ := readCPU(pid)
		rss, _ := readRSS(pid)
		out[name] = usage{cpu: cpu - w.start[name], peakRSS: max(w.peak[name], rss)}
	}
	out[machine] = usage{cpu: machineBusy() - w.machineStart}
	return out
}

// readCPU returns the user and system time of a process.
func readCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may contain spaces: skip past it.
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	// utime and stime are fields 14 and 15 of stat, here 11 and 12 (0-based).
	if len(fields) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("parsing /proc/%d/stat", pid)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// readRSS returns a process' resident set size (VmRSS) in bytes.
func readRSS(pid int) (uint64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// componentPids finds the control-plane processes this process started:
// the test harness does not export their pids, but they are our children.
func componentPids() map[string]int {
	names := map[string]string{
		"etcd": "etcd", "kube-apiserver": "kube-apiserver", "kube-controller": "kube-controller-manager",
		"kube-scheduler": "kube-scheduler", "kwok": "kwok", "prometheus": "prometheus",
	}
	self := strconv.Itoa(os.Getpid())
	out := map[string]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		open, end := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
		if open < 0 || end < open {
			continue
		}
		fields := strings.Fields(string(data[end+1:]))
		if len(fields) < 2 || fields[1] != self {
			continue
		}
		if name, ok := names[string(data[open+1:end])]; ok {
			out[name], _ = strconv.Atoi(strings.Fields(string(data[:open]))[0])
		}
	}
	return out
}
