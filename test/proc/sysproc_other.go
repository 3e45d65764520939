//go:build !linux

package proc

import "syscall"

// sysProcAttr has no parent-death signal outside Linux: children are stopped only by Stop and
// StopAll there.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{}
}
