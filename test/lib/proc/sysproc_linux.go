package proc

import "syscall"

// setParentDeathSignal makes the kernel kill a child when the test binary dies, whatever the
// reason (a panic, a test timeout, SIGKILL), so that no child outlives its tests.
func setParentDeathSignal(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGKILL
}
