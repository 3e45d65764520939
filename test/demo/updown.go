package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/serin-dev/serin/test/lib/sandbox"
)

// Marker lines that the world prints when the tutorial has ended.
const (
	markerDone   = "== demo finished"
	markerFailed = "== demo failed"
)

func pidFile(dir string) string { return filepath.Join(dir, "demo.pid") }
func logFile(dir string) string { return filepath.Join(dir, "demo.log") }

// running returns the pid of a world started by up that is still running.
func running(dir string) (int, bool) {
	data, err := os.ReadFile(pidFile(dir))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || syscall.Kill(pid, 0) != nil {
		return 0, false
	}
	return pid, true
}

// up starts the world detached and follows its output until the tutorial ends.
func up(o options) error {
	if reason := sandbox.Supported(); reason != "" {
		return fmt.Errorf("the demo needs network namespaces: %s", reason)
	}
	if pid, ok := running(o.dir); ok {
		return fmt.Errorf("a demo is already running (pid %d): make demo-down first", pid)
	}
	for _, bin := range []*string{&o.serin, &o.loadtester} {
		abs, err := filepath.Abs(*bin)
		if err != nil {
			return err
		}
		if _, err := os.Stat(abs); err != nil {
			return fmt.Errorf("%w (make build)", err)
		}
		*bin = abs
	}
	if err := os.RemoveAll(o.dir); err != nil {
		return err
	}
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return err
	}
	log, err := os.Create(logFile(o.dir))
	if err != nil {
		return err
	}
	defer log.Close()
	cmd, err := sandbox.WorldCommand("world", "-dir", o.dir, "-serin", o.serin, "-loadtester", o.loadtester)
	if err != nil {
		return err
	}
	// Its own session: the terminal's Ctrl-C reaches up, which stops the world in order.
	cmd.SysProcAttr.Setsid = true
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the world: %w", err)
	}
	if err := os.WriteFile(pidFile(o.dir), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		_ = cmd.Process.Kill()
		return err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	return follow(o.dir, cmd.Process, exited)
}

// follow prints the world's log until a marker line, the world's exit, or Ctrl-C, which
// stops the world and waits for it.
func follow(dir string, proc *os.Process, exited <-chan struct{}) error {
	f, err := os.Open(logFile(dir))
	if err != nil {
		return err
	}
	defer f.Close()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	var pending []byte
	buf := make([]byte, 64<<10)
	interrupted, gone := false, false
	for {
		n, _ := f.Read(buf)
		pending = append(pending, buf[:n]...)
		for {
			i := bytes.IndexByte(pending, '\n')
			if i < 0 {
				break
			}
			line := string(pending[:i+1])
			pending = pending[i+1:]
			fmt.Print(line)
			switch {
			case interrupted:
			case strings.HasPrefix(line, markerDone):
				return nil
			case strings.HasPrefix(line, markerFailed):
				return errors.New("the demo failed (see above)")
			}
		}
		if n > 0 {
			continue
		}
		if gone {
			if interrupted {
				return errors.New("interrupted; the demo is stopped")
			}
			return fmt.Errorf("the world exited early; see %s", logFile(dir))
		}
		select {
		case <-exited:
			gone = true // read what is left, then stop
		case <-sigs:
			if !interrupted {
				interrupted = true
				fmt.Println("\n== Ctrl-C: stopping the demo")
				_ = proc.Signal(syscall.SIGTERM)
			}
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// down stops the world that up left running and waits until it has exited.
func down(o options) error {
	pid, ok := running(o.dir)
	if !ok {
		fmt.Println("no demo is running")
		return nil
	}
	fmt.Printf("stopping the demo (pid %d) ...\n", pid)
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return err
	}
	deadline := time.Now().Add(45 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			fmt.Println("still running after 45 s: SIGKILL (its processes die with it)")
			_ = syscall.Kill(pid, syscall.SIGKILL)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = os.Remove(pidFile(o.dir))
	fmt.Println("demo stopped; its network namespace and processes are gone")
	return nil
}
