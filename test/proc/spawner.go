package proc

import (
	"os/exec"
	"runtime"
	"sync"
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

// spawn starts cmd from the spawner's OS thread.
func spawn(cmd *exec.Cmd) error {
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
