package e2e

import (
	"testing"
	"time"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// TestWeightedMirror sets mirror: true on a weighted canary (beyond
// Flagger, whose Gateway API router never reported this mirror, so the
// release repeated "canary weight 0" forever): one interval mirrors
// mirrorWeight percent of the requests (the filter's percent) with no user
// traffic on the canary, then the weights step as usual.
func TestWeightedMirror(t *testing.T) {
	t.Parallel()
	const ns = "test-weighted-mirror"
	deploy(t, seed(t, "podinfo-canary.yaml", ns,
		set(int64(25), "spec", "analysis", "stepWeight"),
		set(true, "spec", "analysis", "mirror"),
		set(int64(50), "spec", "analysis", "mirrorWeight"),
	))
	routes := recordRoutes(t, ns, "v1")
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.1")

	waitPhase(t, ns, flaggerv1.CanaryPhaseSucceeded, 3*time.Minute)
	routes.requireShapes(
		split(100, 0),
		split(100, 0)+" mirror(podinfo-canary,50%)",
		split(75, 25),
		split(50, 50),
		split(100, 0),
	)
	requireEvents(t, ns,
		"Starting canary analysis for podinfo."+ns,
		"Advance podinfo."+ns+" canary weight 0",
		"Advance podinfo."+ns+" canary weight 25",
		"Advance podinfo."+ns+" canary weight 50",
		"Copying podinfo."+ns+" template spec to podinfo-primary."+ns,
		"Promotion completed! Scaling down podinfo."+ns,
	)
}
