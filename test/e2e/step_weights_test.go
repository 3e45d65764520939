package e2e

import (
	"testing"
	"time"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// TestStepWeights replaces the seed's stepWeight with the ladder
// stepWeights: [1, 2, 10, 80] of Flagger's docs: the route takes each rung,
// and 80 is the max weight.
func TestStepWeights(t *testing.T) {
	t.Parallel()
	const ns = "test-step-weights"
	deploy(t, seed(t, "podinfo-canary.yaml", ns,
		unset("spec", "analysis", "stepWeight"),
		unset("spec", "analysis", "maxWeight"),
		set([]any{int64(1), int64(2), int64(10), int64(80)}, "spec", "analysis", "stepWeights"),
	))
	routes := recordRoutes(t, ns, "v1")
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.1")

	waitPhase(t, ns, flaggerv1.CanaryPhaseSucceeded, 3*time.Minute)
	routes.requireShapes(ladder(1, 2, 10, 80)...)
	requireEvents(t, ns,
		"Advance podinfo."+ns+" canary weight 1",
		"Advance podinfo."+ns+" canary weight 2",
		"Advance podinfo."+ns+" canary weight 10",
		"Advance podinfo."+ns+" canary weight 80",
		"Copying podinfo."+ns+" template spec to podinfo-primary."+ns,
		"Promotion completed! Scaling down podinfo."+ns,
	)
}
