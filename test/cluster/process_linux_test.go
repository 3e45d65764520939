package cluster

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const helperEnv = "SERIN_CLUSTER_TEST_HELPER"

// TestChildrenDieWithTheTestBinary runs this test binary again as a helper that starts a
// child and then panics without stopping it: the parent-death signal must kill the child.
func TestChildrenDieWithTheTestBinary(t *testing.T) {
	if os.Getenv(helperEnv) == "1" {
		p, err := startProcess("sleeper", filepath.Join(t.TempDir(), "sleeper.log"), "sleep", "60")
		require.NoError(t, err)
		fmt.Printf("CHILD_PID=%d\n", p.pid())
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

// setChildSubreaper makes this process the reaper of its orphaned descendants.
func setChildSubreaper() error {
	const prSetChildSubreaper = 36
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		return errno
	}
	return nil
}
