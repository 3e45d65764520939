package sandbox

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

var (
	spawnRequests = make(chan spawnRequest)
	spawnerOnce   sync.Once
)

type spawnRequest struct {
	cmd  *exec.Cmd
	errc chan<- error
}

// Start starts cmd so that the kernel kills it when this process dies (a panic, SIGKILL, a test
// timeout): no Pod or stack outlives the program that started it.
func Start(cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	spawnerOnce.Do(func() { go spawner() })
	errc := make(chan error, 1)
	spawnRequests <- spawnRequest{cmd: cmd, errc: errc}
	return <-errc
}

// spawner forks every child from one OS thread that never exits: Linux sends the parent-death
// signal when the forking thread exits, not the process, and the Go runtime retires idle threads.
func spawner() {
	runtime.LockOSThread()
	for req := range spawnRequests {
		req.errc <- req.cmd.Start()
	}
}
