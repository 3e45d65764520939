package proc

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// killWait bounds the wait for a process to be reaped after SIGKILL.
const killWait = 10 * time.Second

// Stop sends SIGTERM to p, SIGKILL if it is still running after grace, and returns once it has
// been reaped. Stopping a process that has already exited returns nil.
func (p *Process) Stop(grace time.Duration) error {
	return StopAll([]*Process{p}, grace)
}

// StopAll sends SIGTERM to every process at once, so that their shutdowns overlap (kube-apiserver
// alone takes about 1 s), sends SIGKILL to those still running after grace, and returns once all
// have been reaped.
func StopAll(procs []*Process, grace time.Duration) error {
	for _, p := range procs {
		_ = p.cmd.Process.Signal(syscall.SIGTERM) // fails only if it has already exited
	}
	deadline := time.Now().Add(grace)
	var errs []error
	for _, p := range procs {
		if p.wait(time.Until(deadline)) {
			continue
		}
		if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			errs = append(errs, fmt.Errorf("killing %s (pid %d): %w", p.name, p.PID(), err))
			continue
		}
		if !p.wait(killWait) {
			errs = append(errs, fmt.Errorf("%s (pid %d) did not exit after SIGKILL", p.name, p.PID()))
		}
	}
	return errors.Join(errs...)
}

// wait reports whether p exits within d; with d <= 0 it only checks.
func (p *Process) wait(d time.Duration) bool {
	select {
	case <-p.exited:
		return true
	default:
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.exited:
		return true
	case <-t.C:
		return false
	}
}
