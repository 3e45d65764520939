package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// errPortInUse marks a start failure caused by a loopback port that another process took
// between freePorts and the component binding it; Start retries those with new ports.
var errPortInUse = errors.New("port already in use")

// logTailBytes bounds how much of a component's log goes into an error message.
const logTailBytes = 4096

// process is one running component, started with its output going to a log file.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{} // closed once the process has been reaped
	waitErr error         // the result of cmd.Wait, valid after exited is closed
}

// startProcess starts bin with args, logging stdout and stderr to logPath.
func startProcess(name, logPath, bin string, args ...string) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	// The child inherits its own copy of the descriptor, so ours can be closed once it runs.
	defer logFile.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = sysProcAttr()
	if err := spawn(cmd); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// pid returns the process id.
func (p *process) pid() int { return p.cmd.Process.Pid }

// failure returns an error about p that ends with the tail of its log.
func (p *process) failure(format string, args ...any) error {
	tail := logTail(p.logPath, logTailBytes)
	err := fmt.Errorf("%s %s; log %s ends with:\n%s", p.name, fmt.Sprintf(format, args...), p.logPath, tail)
	if strings.Contains(tail, "address already in use") {
		return errors.Join(errPortInUse, err)
	}
	return err
}

// exitError describes an early exit; call it only after exited is closed.
func (p *process) exitError() error {
	return p.failure("exited before it was ready (%v)", p.waitErr)
}

// stopProcesses sends SIGTERM to every process at once (kube-apiserver alone takes about 1 s
// to shut down), sends SIGKILL to those still running after grace, and returns once all have
// been reaped.
func stopProcesses(procs []*process, grace time.Duration) error {
	for _, p := range procs {
		_ = p.cmd.Process.Signal(syscall.SIGTERM) // fails only if it has already exited
	}
	deadline := time.Now().Add(grace)
	var errs []error
	for _, p := range procs {
		if p.wait(time.Until(deadline)) {
			continue
		}
		if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			errs = append(errs, fmt.Errorf("killing %s (pid %d): %w", p.name, p.pid(), err))
			continue
		}
		if !p.wait(10 * time.Second) {
			errs = append(errs, fmt.Errorf("%s (pid %d) did not exit after SIGKILL", p.name, p.pid()))
		}
	}
	return errors.Join(errs...)
}

// wait reports whether p exits within d.
func (p *process) wait(d time.Duration) bool {
	select {
	case <-p.exited:
		return true
	default:
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.exited:
		return true
	case <-t.C:
		return false
	}
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
	if offset > 0 {
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:]
		}
	}
	if len(bytes.TrimSpace(buf)) == 0 {
		return "(log is empty)"
	}
	return string(bytes.TrimRight(buf, "\n"))
}

// spawnRequests carries commands to the spawner goroutine.
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

// spawner starts every child from one OS thread that lives as long as the test binary. The
// parent-death signal set by sysProcAttr fires when the thread that forked the child exits,
// not the process, and the Go runtime may retire threads; a locked thread that never returns
// makes the signal mean "the test binary died".
func spawner() {
	runtime.LockOSThread()
	for req := range spawnRequests {
		req.errc <- req.cmd.Start()
	}
}
