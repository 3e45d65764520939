package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// TestSkipAnalysis sets skipAnalysis: a new revision is promoted as soon
// as the canary is ready, without traffic, checks or pre-rollout hooks;
// post-rollout hooks still run (Flagger 1.44).
func TestSkipAnalysis(t *testing.T) {
	t.Parallel()
	const ns = "test-skip-analysis"
	post := "/post/" + ns
	deploy(t, seed(t, "podinfo-canary.yaml", ns, set(true, "spec", "skipAnalysis"), hook("post", flaggerv1.PostRolloutHook, post)))
	routes := recordRoutes(t, ns, "v1")
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.1")

	waitPhase(t, ns, flaggerv1.CanaryPhaseSucceeded, 2*time.Minute)
	routes.requireShapes(split(100, 0))
	requireEvents(t, ns,
		"New revision detected! Scaling up podinfo."+ns,
		"Copying podinfo."+ns+" template spec to podinfo-primary."+ns,
		"Promotion completed! Canary analysis was skipped for podinfo."+ns,
		"Post-rollout check post passed",
	)
	for _, m := range eventMessages(t, ns) {
		assert.NotContains(t, m, "Advance")
		assert.NotContains(t, m, "Starting canary analysis")
	}
	calls := env.hooks.callsTo(ns, post)
	if assert.Len(t, calls, 1) {
		assert.Equal(t, flaggerv1.CanaryPhaseSucceeded, calls[0].Payload.Phase)
	}
	assert.Len(t, env.hooks.payloads(ns), len(calls), "no other hook runs")
	assert.Equal(t, "ghcr.io/stefanprodan/podinfo:6.0.1", targetImage(t, ns, "podinfo-primary"))
	assert.Equal(t, int32(0), replicas(t, ns, "podinfo"))
}
