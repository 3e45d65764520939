//go:build !linux

package proc

import "syscall"

// setParentDeathSignal does nothing outside Linux, which has no parent-death signal: children
// are stopped only by Stop and StopAll there.
func setParentDeathSignal(*syscall.SysProcAttr) {}
