package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/metricsexporter"
	"github.com/serin-dev/serin/test/lib/must"
)

// TestPostRolloutHooks calls the post-rollout webhooks after a promotion
// and after a rollback, with the run's final phase. A failing post-rollout
// hook is reported and changes nothing.
func TestPostRolloutHooks(t *testing.T) {
	t.Parallel()
	const ns = "test-post-rollout"
	post, closed := "/post/"+ns, gatePrefix+"post-"+ns
	deploy(t, seed(t, "podinfo-canary.yaml", ns, shortLadder(),
		set(int64(1), "spec", "analysis", "threshold"),
		hook("post", flaggerv1.PostRolloutHook, post),
		hook("closed", flaggerv1.PostRolloutHook, closed),
	))
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.1")
	waitPhase(t, ns, flaggerv1.CanaryPhaseSucceeded, 2*time.Minute)
	// The hooks are called after the status write that records the final
	// phase (so that a failed write does not call them twice): on a loaded
	// machine the test sees the phase first.
	var calls []hookCall
	must.Eventually(t, 30*time.Second, 250*time.Millisecond, func() (bool, error) {
		calls = env.hooks.callsTo(ns, post)
		return len(calls) == 1, fmt.Errorf("%d post-rollout calls", len(calls))
	}, "the post-rollout call of the promotion")
	assert.Equal(t, flaggerv1.CanaryPhaseSucceeded, calls[0].Payload.Phase)
	requireEvents(t, ns,
		"Promotion completed! Scaling down podinfo."+ns,
		"Post-rollout check post passed",
		"Post-rollout hook closed failed",
	)
	assert.Equal(t, flaggerv1.CanaryPhaseSucceeded, canary(t, ns).Status.Phase, "a failed post-rollout hook changes nothing")

	env.exporter.Set(ns, "podinfo", metricsexporter.Traffic{RPS: 20, ErrorRatio: 0.5, Latency: 20 * time.Millisecond})
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.2")
	waitPhase(t, ns, flaggerv1.CanaryPhaseFailed, 2*time.Minute)
	must.Eventually(t, 30*time.Second, 250*time.Millisecond, func() (bool, error) {
		calls = env.hooks.callsTo(ns, post)
		return len(calls) == 2, fmt.Errorf("%d post-rollout calls", len(calls))
	}, "the post-rollout call of the rollback")
	assert.Equal(t, flaggerv1.CanaryPhaseFailed, calls[1].Payload.Phase)
	requireEvents(t, ns, "Canary failed! Scaling down podinfo."+ns)
	// Events reach the API asynchronously, possibly after the phase.
	must.Eventually(t, 10*time.Second, 250*time.Millisecond, func() (bool, error) {
		n := eventCount(t, ns, "Post-rollout check post passed")
		return n == 2, fmt.Errorf("%d post-rollout events", n)
	}, "a post-rollout event per run")
	assert.Len(t, env.hooks.callsTo(ns, closed), 2)
}
