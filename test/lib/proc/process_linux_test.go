package proc

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const helperEnv = "SERIN_PROC_TEST_HELPER"

// TestChildrenDieWithTheTestBinary runs this test binary again as a helper that starts a
// child and then panics without stopping it: the parent-death signal must kill the child.
func TestChildrenDieWithTheTestBinary(t *testing.T) {
	if os.Getenv(helperEnv) == "1" {
		p, err := Start("sleeper", filepath.Join(t.TempDir(), "sleeper.log"), "sleep", "60")
		require.NoError(t, err)
		fmt.Printf("CHILD_PID=%d\n", p.PID())
		panic("the test binary dies without calling Stop")
	}
	// Adopt orphaned descendants, so that the child can be reaped here and its fate read.
	require.NoError(t, setChildSubreaper())
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildrenDieWithTheTestBinary$", "-test.v")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.Error(t, cmd.Run(), "the helper panics")
	m := regexp.MustCompile(`CHILD_PID=(\d+)`).FindStringSubmatch(out.String())
	require.NotNil(t, m, "helper output:\n%s", out.String())
	pid, err := strconv.Atoi(m[1])
	require.NoError(t, err)

	reaped := make(chan syscall.WaitStatus, 1)
	go func() {
		var ws syscall.WaitStatus
		if _, err := syscall.Wait4(pid, &ws, 0, nil); err == nil {
			reaped <- ws
		}
	}()
	select {
	case ws := <-reaped:
		require.True(t, ws.Signaled() && ws.Signal() == syscall.SIGKILL, "child exited with %v", ws)
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(pid, syscall.SIGKILL)
		<-reaped
		t.Fatalf("child %d outlived the test binary", pid)
	}
}

// TestChildrenOutliveTheThreadThatStartedThem starts two children from a goroutine whose OS
// thread then ends: one with Start, one with a plain exec.Cmd and the same parent-death signal.
// The plain one dies with the thread, which shows what the spawner is for; Start's survives.
func TestChildrenOutliveTheThreadThatStartedThem(t *testing.T) {
	dir := t.TempDir()
	var (
		viaStart *Process
		direct   = exec.Command("sleep", "60")
		errs     = make([]error, 2)
	)
	direct.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	onThreadThatEnds(func() {
		viaStart, errs[0] = Start("sleeper", filepath.Join(dir, "sleeper.log"), "sleep", "60")
		errs[1] = direct.Start()
	})
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	t.Cleanup(func() { _ = viaStart.Stop(time.Second) })

	died := make(chan error, 1)
	go func() { died <- direct.Wait() }()
	select {
	case err := <-died:
		assert.ErrorContains(t, err, "signal: killed", "the plain child died of its parent-death signal")
	case <-time.After(5 * time.Second):
		_ = direct.Process.Kill()
		<-died
		t.Fatal("the plain child outlived its thread: the test cannot tell whether the spawner works")
	}
	select {
	case <-viaStart.Exited():
		t.Fatalf("the child started with Start died with the calling thread: %v", viaStart.ExitErr())
	case <-time.After(200 * time.Millisecond):
	}
}

// TestSpawnKeepsTheCallersAttributes starts a child in a process group of its own, as the Pod
// sandboxes do: Spawn adds the parent-death signal without dropping the caller's settings.
func TestSpawnKeepsTheCallersAttributes(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, Spawn(cmd))
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	assert.Equal(t, syscall.SIGKILL, cmd.SysProcAttr.Pdeathsig)
	pgid, err := syscall.Getpgid(cmd.Process.Pid)
	require.NoError(t, err)
	assert.Equal(t, cmd.Process.Pid, pgid, "the child leads its own process group")
}

// onThreadThatEnds runs fn on a goroutine locked to an OS thread that the runtime destroys when
// fn returns, and returns once fn has returned.
func onThreadThatEnds(fn func()) {
	done := make(chan struct{})
	var run func()
	run = func() {
		runtime.LockOSThread()
		if syscall.Gettid() == os.Getpid() {
			// The main thread is never destroyed, so run fn elsewhere: the new goroutine
			// cannot take this thread while we hold it.
			go run()
			<-done
			runtime.UnlockOSThread()
			return
		}
		fn()
		close(done)
		// Returning while locked makes the runtime end this thread.
	}
	go run()
	<-done
}

// setChildSubreaper makes this process the reaper of its orphaned descendants.
func setChildSubreaper() error {
	const prSetChildSubreaper = 36
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		return errno
	}
	return nil
}
