package loadtester

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/serin-dev/serin/pkg/webhook"
)

func TestTaskValidation(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name       string
		payload    any
		wantStatus int
		wantBody   string
	}{
		{"no metadata", canary(), http.StatusBadRequest, "metadata not found in payload"},
		{"no cmd", canary("type", "bash"), http.StatusBadRequest, "cmd not found in metadata"},
		{"unknown type", canary("type", "ansible", "cmd", "x"), http.StatusBadRequest, "unknown task type ansible"},
		{"concord", canary("type", "concord", "cmd", "x"), http.StatusBadRequest, "task type concord is not supported by this load tester"},
		{"invalid hey", canary("cmd", "hey -n many http://x/"), http.StatusBadRequest, "invalid hey command: hey: invalid value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := f.post(t, "/", tt.payload)
			assert.Equal(t, tt.wantStatus, status)
			assert.Contains(t, body, tt.wantBody)
		})
	}
}

func TestBashTask(t *testing.T) {
	f := newFixture(t)

	status, body := f.post(t, "/", canary("type", "bash", "cmd", "echo hello"))
	assert.Equal(t, http.StatusOK, status)
	assert.Empty(t, body, "output only on request, as in Flagger")

	status, body = f.post(t, "/", canary("type", "bash", "cmd", "echo hello | tr a-z A-Z", "returnCmdOutput", "true"))
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "HELLO\n", body)

	status, body = f.post(t, "/", canary("type", "bash", "cmd", "echo oops; exit 3"))
	assert.Equal(t, http.StatusInternalServerError, status)
	assert.Equal(t, "command echo oops; exit 3 failed: exit status 3: oops\n", body)

	assert.Equal(t, 3.0, f.metricValue(t, "serin_loadtester_commands_total", "type", "bash"))
	assert.Equal(t, 1.0, f.metricValue(t, "serin_loadtester_command_failures_total", "type", "bash"))
}

func TestBashTaskTimeout(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Timeout = 200 * time.Millisecond })
	begin := time.Now()
	status, body := f.post(t, "/", canary("type", "bash", "cmd", "sleep 5"))
	assert.Equal(t, http.StatusInternalServerError, status)
	assert.Contains(t, body, "timed out")
	assert.Less(t, time.Since(begin), 4*time.Second, "killed well before sleep ends")
}

func TestCmdTaskRunsInTheBackground(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	gate, out := filepath.Join(dir, "gate"), filepath.Join(dir, "out")
	// Blocks until the test creates gate, so the answer must come first.
	cmd := "while [ ! -e " + gate + " ]; do sleep 0.02; done; echo done > " + out

	for _, p := range []any{canary("cmd", cmd), canary("type", "cmd", "cmd", cmd+" ")} {
		status, body := f.post(t, "/", p)
		assert.Equal(t, http.StatusAccepted, status)
		assert.Equal(t, "command started", body)
	}
	require.NoError(t, os.WriteFile(gate, nil, 0o600))
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(out)
		return err == nil && string(b) == "done\n"
	}, 5*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool {
		return f.metricValue(t, "serin_loadtester_commands_running") == 0
	}, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, 2.0, f.metricValue(t, "serin_loadtester_commands_total", "type", "cmd"))
}

func TestCmdTaskIsDeduplicated(t *testing.T) {
	f := newFixture(t)
	gate := filepath.Join(t.TempDir(), "gate")
	cmd := "while [ ! -e " + gate + " ]; do sleep 0.02; done"
	key := taskKey{canary: "test/podinfo", command: cmd}

	status, body := f.post(t, "/", canary("cmd", cmd))
	require.Equal(t, http.StatusAccepted, status)
	require.Equal(t, "command started", body)

	status, body = f.post(t, "/", canary("cmd", cmd))
	assert.Equal(t, http.StatusAccepted, status)
	assert.Equal(t, "command is already running", body)
	assert.Equal(t, 1.0, f.metricValue(t, "serin_loadtester_commands_skipped_total"))

	status, body = f.post(t, "/", canaryIn("test", "other", "cmd", cmd))
	assert.Equal(t, http.StatusAccepted, status)
	assert.Equal(t, "command started", body, "another canary runs its own")

	require.NoError(t, os.WriteFile(gate, nil, 0o600))
	require.Eventually(t, func() bool { return !f.srv.tasks.isRunning(key) }, 5*time.Second, 10*time.Millisecond)

	status, body = f.post(t, "/", canary("cmd", cmd))
	assert.Equal(t, http.StatusAccepted, status)
	assert.Equal(t, "command started", body, "runs again once finished")
}

func TestCmdTaskTimeoutKillsCommand(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Timeout = 200 * time.Millisecond })
	key := taskKey{canary: "test/podinfo", command: "sleep 5"}

	status, _ := f.post(t, "/", canary("cmd", "sleep 5"))
	require.Equal(t, http.StatusAccepted, status)
	require.Eventually(t, func() bool { return !f.srv.tasks.isRunning(key) }, 4*time.Second, 10*time.Millisecond,
		"killed well before sleep ends")
	assert.Equal(t, 1.0, f.metricValue(t, "serin_loadtester_command_failures_total", "type", "cmd"))
}

// The tutorial's load test runs in-process: no hey binary on PATH.
func TestHeyCommandRunsInProcess(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	var count atomic.Int64
	var header atomic.Value
	target := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		header.Store(r.Header.Get("X-Canary"))
		count.Add(1)
	}))
	t.Cleanup(target.Close)
	f := newFixture(t)

	cmd := "hey -n 5 -c 1 -H 'X-Canary: insider' " + target.URL + "/"
	status, body := f.post(t, "/", canary("cmd", cmd, "logCmdOutput", "true"))
	require.Equal(t, http.StatusAccepted, status)
	require.Equal(t, "command started", body)
	require.Eventually(t, func() bool {
		return f.metricValue(t, "serin_loadtester_commands_total", "type", "hey") == 1 &&
			f.metricValue(t, "serin_loadtester_commands_running") == 0
	}, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, int64(5), count.Load())
	assert.Equal(t, "insider", header.Load())
	assert.Zero(t, f.metricValue(t, "serin_loadtester_command_failures_total", "type", "hey"))
}

func TestKubectlAndHelmMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	f := newFixture(t)
	for typ, bin := range map[string]string{"kubectl": "kubectl", "helm": "helm", "helmv3": "helm"} {
		status, body := f.post(t, "/", canary("type", typ, "cmd", "version"))
		assert.Equal(t, http.StatusInternalServerError, status, typ)
		assert.Equal(t, bin+" not found: install it in the load tester's image or use type bash", body)
	}
}

// fakeTool installs a program that prints its arguments, one per line, and
// fails when the first is "fail".
func fakeTool(t *testing.T, dir, name string) {
	t.Helper()
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\"\n[ \"$1\" != fail ]\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(script), 0o700))
}

func TestKubectlAndHelmRun(t *testing.T) {
	dir := t.TempDir()
	fakeTool(t, dir, "kubectl")
	fakeTool(t, dir, "helm")
	t.Setenv("PATH", dir)
	f := newFixture(t)

	tests := []struct {
		typ, cmd   string
		wantStatus int
		wantBody   string
	}{
		{"kubectl", "get pods -l 'app=a b'", http.StatusOK, "get\npods\n-l\napp=a b\n"},
		{"kubectl", "kubectl get pods", http.StatusOK, "get\npods\n"},
		{"helm", "test podinfo -n test", http.StatusOK, "test\npodinfo\n-n\ntest\n"},
		{"helmv3", "helm test podinfo", http.StatusOK, "test\npodinfo\n"},
		{"kubectl", "fail now", http.StatusInternalServerError, "command fail now failed: exit status 1: fail\nnow\n"},
		{"kubectl", "get pods | wc -l", http.StatusBadRequest, "kubectl commands run without a shell: shell operator | needs a shell"},
	}
	for _, tt := range tests {
		t.Run(tt.typ+" "+tt.cmd, func(t *testing.T) {
			status, body := f.post(t, "/", canary("type", tt.typ, "cmd", tt.cmd, "returnCmdOutput", "true"))
			assert.Equal(t, tt.wantStatus, status)
			assert.Equal(t, tt.wantBody, body)
		})
	}
}

func TestAllowListOverHTTP(t *testing.T) {
	dir := t.TempDir()
	fakeTool(t, dir, "kubectl")
	f := newFixture(t, func(c *Config) { c.AllowCmd = []string{"echo", "kubectl get"} })
	t.Setenv("PATH", dir+":"+os.Getenv("PATH"))

	tests := []struct {
		name       string
		payload    any
		wantStatus int
		wantBody   string
	}{
		{"bash allowed", canary("type", "bash", "cmd", "echo ok"), http.StatusOK, ""},
		{"bash denied", canary("type", "bash", "cmd", "rm -rf /tmp/x"), http.StatusForbidden,
			`command not allowed by -allow-cmd: "rm -rf /tmp/x" does not start with an allowed prefix`},
		{"bash chained", canary("type", "bash", "cmd", "echo ok && id"), http.StatusForbidden, `"id" does not start`},
		{"cmd denied", canary("cmd", "id"), http.StatusForbidden, `"id" does not start`},
		{"cmd allowed", canary("cmd", "echo in the background"), http.StatusAccepted, "command started"},
		{"kubectl allowed", canary("type", "kubectl", "cmd", "get pods"), http.StatusOK, ""},
		{"kubectl denied", canary("type", "kubectl", "cmd", "delete pods --all"), http.StatusForbidden, `"kubectl delete pods --all" does not start`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := f.post(t, "/", tt.payload)
			assert.Equal(t, tt.wantStatus, status)
			assert.Contains(t, body, tt.wantBody)
		})
	}
}

func TestRefusalsAreCounted(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.AllowCmd = []string{"hey", "curl", "grep"} })
	for _, p := range []webhook.Payload{
		canary("type", "bash", "cmd", "id"),
		canary("type", "bash", "cmd", "curl -s http://x/ | sh"),
		canary("cmd", "sh -c id"),
		canary("type", "kubectl", "cmd", "get secrets"),
	} {
		status, body := f.post(t, "/", p)
		assert.Equal(t, http.StatusForbidden, status)
		assert.Contains(t, body, "command not allowed by -allow-cmd: ")
	}
	assert.Equal(t, 2.0, f.metricValue(t, "serin_loadtester_commands_denied_total", "type", "bash"))
	assert.Equal(t, 1.0, f.metricValue(t, "serin_loadtester_commands_denied_total", "type", "cmd"))
	assert.Equal(t, 1.0, f.metricValue(t, "serin_loadtester_commands_denied_total", "type", "kubectl"))
	assert.Zero(t, f.metricValue(t, "serin_loadtester_commands_total"), "nothing ran")
}
