package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// TestABSeedAsPrinted applies the tutorial's podinfo-ab-canary.yaml exactly
// as printed. It has neither analysis.match nor iterations (only the load
// test's X-Canary header hints at A/B testing), so, as in Flagger, it runs
// as a weighted canary: one rule, 10% steps to 50%, promotion. The A/B form
// the tutorial describes is TestABTesting.
func TestABSeedAsPrinted(t *testing.T) {
	t.Parallel()
	const ns = "test-ab-seed"
	deploy(t, seed(t, "podinfo-ab-canary.yaml", ns))
	routes := recordRoutes(t, ns, "v1")
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.3")

	waitPhase(t, ns, flaggerv1.CanaryPhaseSucceeded, 4*time.Minute)
	routes.requireShapes(ladder(10, 20, 30, 40, 50)...)
	requireEvents(t, ns,
		"New revision detected! Scaling up podinfo."+ns,
		"Advance podinfo."+ns+" canary weight 10",
		"Advance podinfo."+ns+" canary weight 50",
		"Copying podinfo."+ns+" template spec to podinfo-primary."+ns,
		"Promotion completed! Scaling down podinfo."+ns,
	)
	for _, m := range eventMessages(t, ns) {
		assert.NotContains(t, m, "iteration", "no A/B iterations")
	}
	var loadTests []string
	for _, p := range env.hooks.payloads(ns) {
		if strings.Contains(p.Metadata["cmd"], "hey") {
			loadTests = append(loadTests, p.Metadata["cmd"])
		}
	}
	assert.NotEmpty(t, loadTests)
	assert.Contains(t, loadTests[0], "-H 'X-Canary: insider'", "the header only reaches the load test")
	assert.Equal(t, "ghcr.io/stefanprodan/podinfo:6.0.3", targetImage(t, ns, "podinfo-primary"))
}
