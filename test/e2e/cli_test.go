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
	"github.com/serin-dev/serin/test/lib/metricsexporter"
	"github.com/serin-dev/serin/test/lib/must"
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
	t.Run("PauseAndResume", func(t *testing.T) { t.Parallel(); testCLIPauseAndResume(t, k) })
	t.Run("ExplainAndReplay", func(t *testing.T) { t.Parallel(); testCLIExplainAndReplay(t, k) })
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

// testCLIPauseAndResume pauses a healthy release mid-run: it holds its
// weight over several intervals, get says it is paused, and once resumed
// it goes on to Succeeded.
func testCLIPauseAndResume(t *testing.T, k kubectlSerin) {
	const ns = "test-cli-pause"
	bootstrap(t, ns)
	env.exporter.Set(ns, "podinfo", healthy)
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.1")
	must.Eventually(t, 2*time.Minute, 250*time.Millisecond, func() (bool, error) {
		cd := canary(t, ns)
		return cd.Status.Phase == flaggerv1.CanaryPhaseProgressing && cd.Status.CanaryWeight >= 10, nil
	}, "a run under way")

	got := k.run(t, "pause", "podinfo", "-n", ns)
	require.Equal(t, 0, got.code, got.stderr)
	assert.Contains(t, got.stdout, "podinfo."+ns+" holds here until resumed")
	held := canary(t, ns)
	require.True(t, held.Status.Paused)
	time.Sleep(3 * 10 * time.Second) // three analysis intervals
	cd := canary(t, ns)
	assert.Equal(t, flaggerv1.CanaryPhaseProgressing, cd.Status.Phase)
	assert.Equal(t, held.Status.CanaryWeight, cd.Status.CanaryWeight, "a paused run holds its weight")
	got = k.run(t, "get", "podinfo", "-n", ns)
	assert.Contains(t, got.stdout, "(kubectl serin resume podinfo)")

	got = k.run(t, "promote", "podinfo", "-n", ns, "--full")
	assert.Equal(t, 1, got.code, "promote-full is refused while paused")
	assert.Contains(t, got.stderr, "the canary is paused; resume it first")

	got = k.run(t, "resume", "podinfo", "-n", ns)
	require.Equal(t, 0, got.code, got.stderr)
	assert.Contains(t, got.stdout, "podinfo."+ns+" goes on")
	assert.Equal(t, 0, k.run(t, "status", "podinfo", "-n", ns, "--timeout", "3m").code, "the resumed release")
	assert.False(t, canary(t, ns).Status.Paused)
}

// testCLIExplainAndReplay rolls a release back on its error rate, then
// explains it (the failing values, and why it rolled back) and replays it:
// asked again at the recorded times, the queries give the same verdicts;
// with a threshold that lets 60% errors through, the run would have passed.
func testCLIExplainAndReplay(t *testing.T, k kubectlSerin) {
	const ns = "test-cli-explain"
	bootstrap(t, ns)
	env.exporter.Set(ns, "podinfo", metricsexporter.Traffic{RPS: 20, ErrorRatio: 0.6, Latency: 20 * time.Millisecond})
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.2")
	waitPhase(t, ns, flaggerv1.CanaryPhaseFailed, 4*time.Minute)

	cd := canary(t, ns)
	assert.Equal(t, 1, cd.Status.Run)
	assert.Equal(t, "podinfo-history", cd.Status.History)
	var latest *flaggerv1.CheckResult
	for i := range cd.Status.Checks {
		if cd.Status.Checks[i].Name == "error-rate" {
			latest = &cd.Status.Checks[i]
		}
	}
	require.NotNil(t, latest, "status.checks: %+v", cd.Status.Checks)
	assert.Equal(t, flaggerv1.CheckFail, latest.Verdict)
	assert.Equal(t, "max 1", latest.Threshold)
	assert.NotEmpty(t, latest.Query)

	got := k.run(t, "explain", "podinfo", "-n", ns)
	require.Equal(t, 0, got.code, got.stderr)
	assert.Contains(t, got.stdout, "Run 1 of "+ns+"/podinfo")
	assert.Regexp(t, `metric error-rate = [0-9.]+ \(max 1\): Fail: Halt podinfo.`+ns+` advancement error-rate [0-9.]+ > 1`, got.stdout)
	assert.Contains(t, got.stdout, "rollout webhook load-test: Pass")
	assert.Contains(t, got.stdout, "Outcome: Failed: Rolling back podinfo."+ns+" failed checks threshold reached 5")

	got = k.run(t, "replay", "podinfo", "-n", ns)
	assert.Equal(t, 1, got.code, "the replayed run rolls back too: %s", got.stderr)
	assert.Regexp(t, `Run 1 replayed: 0 of [1-9][0-9]* checks differ; [5-9] ticks with a failed check, threshold 5: would roll back`, got.stdout)

	got = k.run(t, "replay", "podinfo", "-n", ns, "--set", "error-rate.max=100")
	assert.Equal(t, 0, got.code, "with max 100 the run passes: %s", got.stderr)
	assert.Regexp(t, `Run 1 replayed: [1-9][0-9]* of [1-9][0-9]* checks differ; 0 ticks with a failed check, threshold 5: would stay under the threshold`, got.stdout)

	got = k.run(t, "replay", "podinfo", "-n", ns, "--set", "nosuch.max=1")
	assert.Equal(t, 3, got.code)
	assert.Contains(t, got.stderr, `has no metric "nosuch"`)
}
