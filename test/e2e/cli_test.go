package e2e

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// kubectlSerin is the plugin binary built for the CLI scenarios, run as a
// user runs it: a process with the cluster's admin kubeconfig.
type kubectlSerin struct {
	bin string
}

// result is what a run of the plugin printed and how it exited.
type result struct {
	code           int
	stdout, stderr string
}

// run runs the plugin with args and waits for it to exit.
func (k kubectlSerin) run(t *testing.T, args ...string) result {
	t.Helper()
	return k.start(t, args...)()
}

// start starts the plugin with args and returns a function that waits for
// its end, for commands that run while the test drives the release.
func (k kubectlSerin) start(t *testing.T, args ...string) func() result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	cmd := exec.CommandContext(ctx, k.bin, append(args, "--kubeconfig", env.cluster.KubeconfigPath)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	return func() result {
		t.Helper()
		defer cancel()
		err := cmd.Wait()
		r := result{stdout: stdout.String(), stderr: stderr.String()}
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			r.code = exit.ExitCode()
		} else {
			require.NoError(t, err)
		}
		t.Logf("kubectl serin %v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
		return r
	}
}

// TestCLI runs kubectl serin against releases: it builds the plugin once
// and runs one scenario per namespace in parallel.
func TestCLI(t *testing.T) {
	t.Parallel()
	k := kubectlSerin{bin: filepath.Join(t.TempDir(), "kubectl-serin")}
	out, err := exec.CommandContext(t.Context(), "go", "build", "-o", k.bin,
		"github.com/serin-dev/serin/cmd/kubectl-serin").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	t.Run("PromoteThroughAGate", func(t *testing.T) { t.Parallel(); testCLIPromote(t, k) })
	t.Run("AbortAndRetry", func(t *testing.T) { t.Parallel(); testCLIAbortAndRetry(t, k) })
}

// testCLIPromote holds a release at a closed confirm-promotion gate, shows
// it with get and list, times a status out on it, and promotes it by hand:
// the status started before the release exits 0.
func testCLIPromote(t *testing.T, k kubectlSerin) {
	const ns = "test-cli-promote"
	deploy(t, seed(t, "podinfo-canary.yaml", ns, shortLadder(), hook("gate", flaggerv1.ConfirmPromotionHook, gatePrefix+ns)))
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.1")
	status := k.start(t, "status", "podinfo", "-n", ns, "--timeout", "4m")
	waitPhase(t, ns, flaggerv1.CanaryPhaseWaitingPromotion, 2*time.Minute)

	got := k.run(t, "get", "podinfo", "-n", ns)
	require.Equal(t, 0, got.code, got.stderr)
	for _, want := range []string{
		`Phase: +WaitingPromotion\n`,
		`Weight: +50\n`,
		`primary +podinfo-primary +\d+/\d+ +ghcr.io/stefanprodan/podinfo:6.0.0\n`,
		`target +podinfo +\d+/\d+ +ghcr.io/stefanprodan/podinfo:6.0.1\n`,
		`backend +podinfo-primary +weight 50\n`,
		`backend +podinfo-canary +weight 50\n`,
		`confirm-promotion gate: Waiting \(kubectl serin promote podinfo\)`,
		`Halt podinfo.` + ns + ` advancement waiting for promotion approval gate`,
	} {
		assert.Regexp(t, want, got.stdout)
	}
	got = k.run(t, "list", "-A")
	assert.Regexp(t, ns+` +podinfo +WaitingPromotion +50 +0/\d+ +`, got.stdout)
	got = k.run(t, "get", "podinfo", "-n", ns, "-o", "json")
	assert.Contains(t, got.stdout, `"phase": "WaitingPromotion"`)

	assert.Equal(t, 2, k.run(t, "status", "podinfo", "-n", ns, "--timeout", "2s").code, "timeout")

	got = k.run(t, "promote", "podinfo", "-n", ns)
	require.Equal(t, 0, got.code, got.stderr)
	assert.Regexp(t, `Normal +\S+ Request promote \(promote-[0-9a-f]{8}\): the waiting confirm gates open once`, got.stdout)

	assert.Equal(t, 0, status().code, "the status started before the release ends with it")
	assert.Equal(t, flaggerv1.CanaryPhaseSucceeded, canary(t, ns).Status.Phase)
	assert.Equal(t, 0, k.run(t, "status", "podinfo", "-n", ns, "--timeout", "10s").code, "a released revision at once")
}

// testCLIAbortAndRetry aborts a run at its gate (status exits 1), is told
// that a second abort is ignored, and retries the Failed revision until it
// succeeds.
func testCLIAbortAndRetry(t *testing.T, k kubectlSerin) {
	const ns = "test-cli-abort"
	gate := gatePrefix + ns
	deploy(t, seed(t, "podinfo-canary.yaml", ns, shortLadder(), hook("gate", flaggerv1.ConfirmPromotionHook, gate)))
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.1")
	waitPhase(t, ns, flaggerv1.CanaryPhaseWaitingPromotion, 2*time.Minute)
	status := k.start(t, "status", "podinfo", "-n", ns, "--timeout", "4m")

	got := k.run(t, "abort", "podinfo", "-n", ns)
	require.Equal(t, 0, got.code, got.stderr)
	assert.Regexp(t, `Warning +\S+ Rolling back podinfo.`+ns+`: aborted by request abort-[0-9a-f]{8}`, got.stdout)
	assert.Equal(t, 1, status().code, "the status of an aborted release")
	cd := canary(t, ns)
	assert.Equal(t, flaggerv1.CanaryPhaseFailed, cd.Status.Phase)
	assert.Equal(t, 0, cd.Status.CanaryWeight)

	got = k.run(t, "abort", "podinfo", "-n", ns)
	assert.Equal(t, 1, got.code, "an abort of a Failed canary is ignored")
	assert.Contains(t, got.stderr, "ignored: nothing to abort while the canary is Failed")

	got = k.run(t, "retry", "podinfo", "-n", ns)
	require.Equal(t, 0, got.code, got.stderr)
	assert.Contains(t, got.stdout, "running podinfo."+ns+" again")
	env.hooks.open(gate)
	assert.Equal(t, 0, k.run(t, "status", "podinfo", "-n", ns, "--timeout", "4m").code, "the retried revision")
	assert.Equal(t, "ghcr.io/stefanprodan/podinfo:6.0.1", targetImage(t, ns, "podinfo-primary"))
}
