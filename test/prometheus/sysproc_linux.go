package prometheus

import "syscall"

// sysProcAttr makes the kernel kill the child when the test binary dies, whatever the reason
// (a panic, a test timeout, SIGKILL), so that no Prometheus outlives its tests.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
