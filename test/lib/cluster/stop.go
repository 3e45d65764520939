package cluster

import (
	"errors"
	"os"
	"strconv"

	"github.com/serin-dev/serin/test/lib/proc"
)

// Stop stops every component (SIGTERM to all at once, SIGKILL to those still running after
// 5 s; etcd once the others are gone), waits until they have exited and removes Dir unless
// SERIN_KEEP_CLUSTER=1. It is safe to call more than once; later calls return the first result.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		// etcd goes last: on SIGTERM it waits for its clients' streams to end, which took 7 s
		// while kube-apiserver was still up, and 5 ms once it had exited.
		var clients, storage []*proc.Process
		for _, p := range c.procs {
			if p.Name() == "etcd" {
				storage = append(storage, p)
			} else {
				clients = append(clients, p)
			}
		}
		var errs []error
		for _, wave := range [][]*proc.Process{clients, storage} {
			if err := proc.StopAll(wave, stopGrace); err != nil {
				errs = append(errs, err)
			}
		}
		if !c.keep {
			if err := os.RemoveAll(c.Dir); err != nil {
				errs = append(errs, err)
			}
		}
		c.stopErr = errors.Join(errs...)
	})
	return c.stopErr
}

// PIDs returns the process id of each component, by name (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, kwok).
func (c *Cluster) PIDs() map[string]int {
	pids := make(map[string]int, len(c.procs))
	for _, p := range c.procs {
		pids[p.Name()] = p.PID()
	}
	return pids
}

// keepDir reports whether SERIN_KEEP_CLUSTER asks to keep cluster directories.
func keepDir() bool {
	keep, _ := strconv.ParseBool(os.Getenv(KeepEnv))
	return keep
}
