package proc

import (
	"fmt"
	"os"
	"os/exec"
)

// TailLimit bounds how much of a log, in bytes, Failure quotes.
const TailLimit = 4096

// Process is a running child started by Start.
type Process struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{} // closed once the process has been reaped
	exitErr error         // the result of cmd.Wait, written before exited is closed
}

// Start runs bin with args, appending its stdout and stderr to the file at logPath (created if
// needed). name is how errors refer to the process. The process runs until Stop or StopAll, or
// until it exits by itself; on Linux it is killed if the test binary dies first.
func Start(name, logPath, bin string, args ...string) (*Process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	// The child inherits its own copy of the descriptor, so ours can be closed once it runs.
	defer logFile.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := Spawn(cmd); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Process{name: name, logPath: logPath, cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.exitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// Name returns the name given to Start.
func (p *Process) Name() string { return p.name }

// LogPath returns the log file given to Start.
func (p *Process) LogPath() string { return p.logPath }

// PID returns the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Exited returns a channel that is closed once the process has exited and been reaped.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// ExitErr returns how the process ended, as exec.Cmd.Wait reports it (nil for exit status 0);
// it is nil while the process is running.
func (p *Process) ExitErr() error {
	select {
	case <-p.exited:
		return p.exitErr
	default:
		return nil
	}
}

// Failure returns an error that starts with the process name and the formatted message and ends
// with the last TailLimit bytes of its log, which usually say what went wrong.
func (p *Process) Failure(format string, args ...any) error {
	return fmt.Errorf("%s %s; log %s ends with:\n%s", p.name, fmt.Sprintf(format, args...), p.logPath,
		LogTail(p.logPath, TailLimit))
}
