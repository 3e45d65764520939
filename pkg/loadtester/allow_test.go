package loadtester

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAllowListCheckShell(t *testing.T) {
	a, err := newAllowList([]string{"curl -s", "grep", "hey", "  ", "kubectl  -n test get"})
	require.NoError(t, err)
	tests := []struct {
		cmd  string
		want string // empty when allowed, else part of the reason
	}{
		{"curl -s http://podinfo-canary.test:9898/token | grep token", ""},
		{"curl -sd 'test' http://x/token | grep token", `"curl -sd test http://x/token" does not start`},
		{"'curl' \"-s\" http://x/", ""},
		{"curl -s http://x/ > /tmp/out 2>&1", ""},
		{"hey -z 1m http://x/", ""},
		{"kubectl -n test get pods", ""},
		{"kubectl -n prod get pods", "does not start with an allowed prefix"},
		{"curl http://x/", `"curl http://x/" does not start`},
		{"curl -s x; rm -rf /", `"rm -rf /" does not start`},
		{"curl -s x && id", `"id" does not start`},
		{"curl -s x\nid", `"id" does not start`},
		{"(id)", `"id" does not start`},
		{"curl -s x & id", `"id" does not start`},
		{"curl -s $(id)", "command substitution"},
		{"curl -s \"`id`\"", "command substitution"},
		{"$CURL -s x", "is not literal"},
		{"curl -s http://x/$PATH_SUFFIX", ""},
		{"FOO=1 curl -s x", `"FOO=1 curl -s x" does not start`},
		{"curl -s 'x", "cannot be parsed"},
		{"grep x < /etc/hostname", ""},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			err := a.checkShell(tt.cmd)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, isDenied(err))
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestAllowListDisabledAllowsAll(t *testing.T) {
	a, err := newAllowList(nil)
	require.NoError(t, err)
	assert.False(t, a.enabled())
	assert.NoError(t, a.checkShell("rm -rf / $(id)"))
	assert.NoError(t, a.checkWords([]string{"kubectl", "delete"}))
}

func TestAllowListCheckWords(t *testing.T) {
	a, err := newAllowList([]string{"kubectl get", "helm test"})
	require.NoError(t, err)
	assert.NoError(t, a.checkWords([]string{"kubectl", "get", "pods"}))
	assert.NoError(t, a.checkWords([]string{"helm", "test", "podinfo"}))
	assert.Error(t, a.checkWords([]string{"kubectl"}))
	assert.Error(t, a.checkWords([]string{"kubectl", "getx"}))
	assert.Error(t, a.checkWords([]string{"helm", "delete", "podinfo"}))
}

func TestAllowListRejectsOperatorsInPrefixes(t *testing.T) {
	_, err := newAllowList([]string{"curl | sh"})
	assert.ErrorContains(t, err, `-allow-cmd "curl | sh": shell operator | needs a shell`)
}
