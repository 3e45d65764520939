package loadtester

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestShutdownWaitsForCommands(t *testing.T) {
	f := newFixture(t)
	gate := filepath.Join(t.TempDir(), "gate")
	status, _ := f.post(t, "/", canary("cmd", "while [ ! -e "+gate+" ]; do sleep 0.02; done"))
	require.Equal(t, http.StatusAccepted, status)

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		done <- f.srv.Shutdown(ctx)
	}()
	require.Eventually(t, func() bool {
		status, _ := f.post(t, "/", canary("type", "bash", "cmd", "true"))
		return status == http.StatusServiceUnavailable
	}, 5*time.Second, 10*time.Millisecond, "new commands are refused while shutting down")
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v before the command ended", err)
	default:
	}

	require.NoError(t, os.WriteFile(gate, nil, 0o600))
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not return once the command ended")
	}
}

func TestShutdownKillsCommandsAfterGrace(t *testing.T) {
	f := newFixture(t)
	key := taskKey{canary: "test/podinfo", command: "sleep 30"}
	status, _ := f.post(t, "/", canary("cmd", "sleep 30"))
	require.Equal(t, http.StatusAccepted, status)
	require.Eventually(t, func() bool { return f.srv.tasks.isRunning(key) }, 5*time.Second, 10*time.Millisecond)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	begin := time.Now()
	err := f.srv.Shutdown(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(begin), 20*time.Second)
	assert.False(t, f.srv.tasks.isRunning(key))
	assert.Equal(t, 1.0, f.metricValue(t, "serin_loadtester_command_failures_total", "type", "cmd"))

	status, body := f.post(t, "/", canary("cmd", "true"))
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Equal(t, "the load tester is shutting down", body)
}
