//go:build !linux

package cluster

import "syscall"

// sysProcAttr has no parent-death signal outside Linux: children are stopped only by
// Cluster.Stop there.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{}
}
