package proc

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

// spawnRequest asks the spawner to start cmd and send the result of Start to errc.
type spawnRequest struct {
	cmd  *exec.Cmd
	errc chan<- error
}

// Spawn starts cmd so that, on Linux, the kernel kills it when the test binary dies (a panic, a
// test timeout, SIGKILL) and not earlier. It adds the parent-death signal to cmd.SysProcAttr,
// keeping whatever else the caller set there (namespaces, a process group), and starts cmd from
// the spawner's OS thread. Use it for every child a test program starts that is not a Start
// process (which uses it already): setting Pdeathsig and calling cmd.Start from an arbitrary
// goroutine gets the child killed whenever the runtime retires that goroutine's thread.
func Spawn(cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	setParentDeathSignal(cmd.SysProcAttr)
	spawnerOnce.Do(func() { go spawner() })
	errc := make(chan error, 1)
	spawnRequests <- spawnRequest{cmd: cmd, errc: errc}
	return <-errc
}

// spawner forks every child from one OS thread that lives as long as the test binary. Linux
// sends the parent-death signal when the thread that forked the child exits, not the process,
// and the Go runtime ends a thread whenever a goroutine exits while locked to it, so a child
// forked from an arbitrary goroutine may be killed at any time. A locked thread that never
// returns makes the signal mean "the test binary died".
func spawner() {
	runtime.LockOSThread()
	for req := range spawnRequests {
		req.errc <- req.cmd.Start()
	}
}
