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

func TestAllowListAnyOpensIt(t *testing.T) {
	a, err := newAllowList([]string{"hey", "curl", "grep", " * "})
	require.NoError(t, err)
	assert.False(t, a.enabled(), "* appended to a shipped list turns it off")
	assert.NoError(t, a.checkShell("id; rm -rf /tmp/x"))
}

func TestCheckCommand(t *testing.T) {
	tutorial := []string{"hey", "curl", "grep"}
	tests := []struct {
		name, typ, cmd string
		denied         bool
	}{
		{"smoke test", "bash", "curl -sd 'anon' http://podinfo-canary.test:9898/token | grep token", false},
		{"load test", "", "hey -z 2m -q 10 -c 2 -host www.example.com http://gateway-istio.istio-ingress/", false},
		{"A/B load test", "cmd", "hey -z 2m -q 10 -c 2 -host www.example.com -H 'X-Canary: insider' http://gateway-istio.istio-ingress/", false},
		{"shell", "bash", "cat /var/run/secrets/kubernetes.io/serviceaccount/token", true},
		{"chained", "cmd", "curl -s http://x/ ; sh -c id", true},
		{"kubectl", "kubectl", "get pods", true},
		{"helm", "helmv3", "helm test podinfo", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckCommand(tutorial, tt.typ, tt.cmd)
			if !tt.denied {
				assert.NoError(t, err)
				return
			}
			assert.True(t, isDenied(err), "%v", err)
		})
	}
	assert.ErrorContains(t, CheckCommand(tutorial, "concord", "x"), "unknown task type concord")
	assert.NoError(t, CheckCommand([]string{"kubectl get"}, "kubectl", "kubectl get pods"))
}
