package loadtester

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStaticEndpoints(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		path       string
		wantStatus int
		wantBody   string
	}{
		{"/healthz", http.StatusOK, "OK"},
		{"/gate/approve", http.StatusOK, "OK"},
		{"/gate/halt", http.StatusForbidden, "Forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			status, body := f.get(t, tt.path)
			assert.Equal(t, tt.wantStatus, status)
			assert.Equal(t, tt.wantBody, body)
			// Flagger calls them with POST and a payload.
			status, body = f.post(t, tt.path, canary())
			assert.Equal(t, tt.wantStatus, status)
			assert.Equal(t, tt.wantBody, body)
		})
	}
}

func TestMetricsEndpoint(t *testing.T) {
	f := newFixture(t)
	status, _ := f.post(t, "/gate/check", canary())
	require.Equal(t, http.StatusForbidden, status)
	status, _ = f.post(t, "/", canary("type", "bash", "cmd", "true"))
	require.Equal(t, http.StatusOK, status)

	status, body := f.get(t, "/metrics")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `serin_loadtester_gate_checks_total{kind="gate",result="closed"} 1`)
	assert.Contains(t, body, `serin_loadtester_commands_total{type="bash"} 1`)
	assert.Contains(t, body, "serin_loadtester_commands_running 0")
}

func TestPayloadValidation(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.NamespaceRegexp = regexp.MustCompile(`^(test|prod)$`) })
	for _, path := range []string{"/", "/gate/check", "/gate/open", "/gate/close", "/rollback/check", "/rollback/open", "/rollback/close"} {
		t.Run(path, func(t *testing.T) {
			status, body := f.post(t, path, "{not json")
			assert.Equal(t, http.StatusBadRequest, status)
			assert.Contains(t, body, "decoding the request body failed")

			status, body = f.post(t, path, map[string]string{"namespace": "test"})
			assert.Equal(t, http.StatusBadRequest, status)
			assert.Equal(t, "name and namespace are required", body)

			status, body = f.post(t, path, canaryIn("dev", "podinfo", "type", "bash", "cmd", "true"))
			assert.Equal(t, http.StatusForbidden, status)
			assert.Equal(t, "namespace dev is not allowed to use this load tester", body)
		})
	}
}

func TestNamespaceRegexpAllows(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.NamespaceRegexp = regexp.MustCompile(`^test$`) })
	status, _ := f.post(t, "/", canary("type", "bash", "cmd", "true"))
	assert.Equal(t, http.StatusOK, status)
}

func TestNewServerRejectsBadPrefix(t *testing.T) {
	_, err := NewServer(Config{AllowCmd: []string{"curl 'x"}})
	assert.ErrorContains(t, err, `-allow-cmd "curl 'x"`)
}
