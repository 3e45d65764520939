package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// TestBlueGreen replaces the seed's weights with iterations: 3. No user
// request reaches the canary during the iterations (the tests reach it
// through podinfo-canary); then one interval serves everything from the
// canary, with its analysis, before the promotion.
func TestBlueGreen(t *testing.T) {
	t.Parallel()
	const ns = "test-bluegreen"
	deploy(t, seed(t, "podinfo-canary.yaml", ns,
		unset("spec", "analysis", "stepWeight"),
		unset("spec", "analysis", "maxWeight"),
		set(int64(3), "spec", "analysis", "iterations"),
	))
	routes := recordRoutes(t, ns, "v1")
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.1")

	cd := waitCanary(t, ns, 3*time.Minute, "the switch tick", func(cd *flaggerv1.Canary) error {
		if cd.Status.Iterations != 4 {
			return fmt.Errorf("iteration %d", cd.Status.Iterations)
		}
		return nil
	})
	assert.Equal(t, flaggerv1.CanaryPhaseProgressing, cd.Status.Phase)
	assert.Equal(t, 100, cd.Status.CanaryWeight, "Unlike Flagger, the status shows the switch")
	waitPhase(t, ns, flaggerv1.CanaryPhaseSucceeded, 2*time.Minute)

	routes.requireShapes(split(100, 0), split(0, 100), split(100, 0))
	requireEvents(t, ns,
		"Starting canary analysis for podinfo."+ns,
		"Advance podinfo."+ns+" canary iteration 1/3",
		"Advance podinfo."+ns+" canary iteration 2/3",
		"Advance podinfo."+ns+" canary iteration 3/3",
		"Routing all traffic to canary",
		"Copying podinfo."+ns+" template spec to podinfo-primary."+ns,
		"Routing all traffic to primary",
		"Promotion completed! Scaling down podinfo."+ns,
	)
	// The load test (a rollout hook) runs on every analysis tick but the
	// first, which runs the pre-rollout smoke test: iterations 2 and 3, the
	// switch, and the interval at 0/100 that precedes the promotion.
	loadTests := 0
	for _, p := range env.hooks.payloads(ns) {
		if p.Phase == flaggerv1.CanaryPhaseProgressing && strings.HasPrefix(p.Metadata["cmd"], "hey") {
			loadTests++
		}
	}
	assert.GreaterOrEqual(t, loadTests, 4)
}
