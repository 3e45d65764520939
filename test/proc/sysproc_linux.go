package proc

import "syscall"

// sysProcAttr makes the kernel kill a child when the test binary dies, whatever the reason (a
// panic, a test timeout, SIGKILL), so that no child outlives its tests.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
