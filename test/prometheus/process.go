package prometheus

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// logTailBytes bounds how much of the server's log goes into an error message.
const logTailBytes = 4096

// process is the running server, with its output going to a log file.
type process struct {
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{} // closed once the process has been reaped
	waitErr error         // the result of cmd.Wait, valid after exited is closed
}

// startProcess starts bin with args, appending stdout and stderr to logPath.
func startProcess(logPath, bin string, args ...string) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	// The child has its own copy of the descriptor once it runs.
	defer logFile.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = sysProcAttr()
	if err := spawn(cmd); err != nil {
		return nil, fmt.Errorf("starting prometheus: %w", err)
	}
	p := &process{cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// stop sends SIGTERM, then SIGKILL if the process is still running after grace, and returns
// once it has been reaped.
func (p *process) stop(grace time.Duration) error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM) // fails only if it has already exited
	if p.wait(grace) {
		return nil
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("killing prometheus (pid %d): %w", p.cmd.Process.Pid, err)
	}
	if !p.wait(10 * time.Second) {
		return fmt.Errorf("prometheus (pid %d) did not exit after SIGKILL", p.cmd.Process.Pid)
	}
	return nil
}

// wait reports whether p exits within d.
func (p *process) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.exited:
		return true
	case <-t.C:
		return false
	}
}

// failure returns an error about p that ends with the tail of its log.
func (p *process) failure(format string, args ...any) error {
	return fmt.Errorf("prometheus %s; log %s ends with:\n%s", fmt.Sprintf(format, args...), p.logPath,
		logTail(p.logPath, logTailBytes))
}

// logTail returns up to the last limit bytes of the file at path, starting at a line boundary.
func logTail(path string, limit int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	offset := max(info.Size()-limit, 0)
	buf := make([]byte, info.Size()-offset)
	if _, err := f.ReadAt(buf, offset); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	if i := bytes.IndexByte(buf, '\n'); offset > 0 && i >= 0 {
		buf = buf[i+1:]
	}
	if len(bytes.TrimSpace(buf)) == 0 {
		return "(log is empty)"
	}
	return string(bytes.TrimRight(buf, "\n"))
}

var (
	spawnRequests = make(chan spawnRequest)
	spawnerOnce   sync.Once
)

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
// and the Go runtime may retire idle threads; a locked thread that never returns makes the
// signal mean "the test binary died".
func spawner() {
	runtime.LockOSThread()
	for req := range spawnRequests {
		req.errc <- req.cmd.Start()
	}
}
