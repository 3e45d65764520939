package e2e

import (
	"testing"
	"time"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// TestStepWeightPromotion adds stepWeightPromotion: 20 to a 25/50 ladder:
// once the primary runs the promoted revision, the traffic returns to it 20
// points per interval instead of all at once.
func TestStepWeightPromotion(t *testing.T) {
	t.Parallel()
	const ns = "test-step-weight-promotion"
	deploy(t, seed(t, "podinfo-canary.yaml", ns,
		set(int64(25), "spec", "analysis", "stepWeight"),
		set(int64(20), "spec", "analysis", "stepWeightPromotion"),
	))
	routes := recordRoutes(t, ns, "v1")
	phases := recordPhases(t, ns)
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.1")

	waitPhase(t, ns, flaggerv1.CanaryPhaseSucceeded, 3*time.Minute)
	routes.requireShapes(split(100, 0), split(75, 25), split(50, 50), split(70, 30), split(90, 10), split(100, 0))
	requireEvents(t, ns,
		"Advance podinfo."+ns+" canary weight 25",
		"Advance podinfo."+ns+" canary weight 50",
		"Copying podinfo."+ns+" template spec to podinfo-primary."+ns,
		"Advance podinfo."+ns+" primary weight 70",
		"Advance podinfo."+ns+" primary weight 90",
		"Advance podinfo."+ns+" primary weight 100",
		"Promotion completed! Scaling down podinfo."+ns,
	)
	requirePhases(t, phases, "Initialized", "Progressing", "Promoting", "Finalising", "Succeeded")
}
