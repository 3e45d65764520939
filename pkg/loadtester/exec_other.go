//go:build !unix

package loadtester

import "os/exec"

// killProcessGroup leaves exec's default, killing the process only: there
// are no process groups to kill here.
func killProcessGroup(*exec.Cmd) {}
