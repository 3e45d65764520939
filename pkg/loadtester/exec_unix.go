//go:build unix

package loadtester

import (
	"os/exec"
	"syscall"
)

// killProcessGroup starts the command in a process group of its own and
// makes cancellation kill the group, children included.
func killProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
