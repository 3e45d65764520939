package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/must"
)

// TestConfirmTrafficIncrease gates every weight increase with a
// confirm-traffic-increase webhook: while it answers 403 the canary runs
// at 0% with a warning each interval; once it answers 200 the weights step
// again.
func TestConfirmTrafficIncrease(t *testing.T) {
	t.Parallel()
	const ns = "test-confirm-traffic"
	gate := gatePrefix + ns
	halt := "Halt podinfo." + ns + " advancement waiting for traffic increase approval gate"
	deploy(t, seed(t, "podinfo-canary.yaml", ns,
		set(int64(25), "spec", "analysis", "stepWeight"),
		hook("gate", flaggerv1.ConfirmTrafficIncreaseHook, gate),
	))
	routes := recordRoutes(t, ns, "v1")
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.1")

	must.Eventually(t, 2*time.Minute, time.Second, func() (bool, error) {
		n := eventCount(t, ns, halt)
		return n >= 2, fmt.Errorf("%d halts", n)
	}, "two refused increases")
	cd := canary(t, ns)
	assert.Equal(t, flaggerv1.CanaryPhaseProgressing, cd.Status.Phase, "the gate does not change the phase")
	assert.Equal(t, 0, cd.Status.CanaryWeight)
	assert.Equal(t, split(100, 0), routes.current())

	env.hooks.open(gate)
	waitPhase(t, ns, flaggerv1.CanaryPhaseSucceeded, 2*time.Minute)
	routes.requireShapes(ladder(25, 50)...)
	requireEvents(t, ns,
		"Pre-rollout check smoke-test passed",
		halt,
		"Confirm-traffic-increase check gate passed",
		"Advance podinfo."+ns+" canary weight 25",
		"Advance podinfo."+ns+" canary weight 50",
		"Promotion completed! Scaling down podinfo."+ns,
	)
	assert.Equal(t, 2, eventCount(t, ns, "Confirm-traffic-increase check gate passed"), "asked before each increase")
}
