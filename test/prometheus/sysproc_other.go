//go:build !linux

package prometheus

import "syscall"

// sysProcAttr has no parent-death signal outside Linux: the child is stopped only by
// Server.Stop there.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{}
}
