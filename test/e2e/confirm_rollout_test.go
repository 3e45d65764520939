package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/must"
)

// TestConfirmRollout gates a release with a confirm-rollout webhook, the
// manual approval of Flagger's docs: while the gate answers 403 the canary
// waits in Waiting with its target at zero and no traffic change, and the
// gate is asked again every interval; once it answers 200 the release runs.
func TestConfirmRollout(t *testing.T) {
	t.Parallel()
	const ns = "test-confirm-rollout"
	gate := gatePrefix + ns
	deploy(t, seed(t, "podinfo-canary.yaml", ns, shortLadder(), hook("gate", flaggerv1.ConfirmRolloutHook, gate)))
	routes := recordRoutes(t, ns, "v1")
	phases := recordPhases(t, ns)
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.1")

	waitPhase(t, ns, flaggerv1.CanaryPhaseWaiting, time.Minute)
	must.Eventually(t, time.Minute, time.Second, func() (bool, error) {
		n := len(env.hooks.callsTo(ns, gate))
		return n >= 3, fmt.Errorf("gate asked %d times", n)
	}, "the gate to be asked again while waiting")
	assert.Equal(t, flaggerv1.CanaryPhaseWaiting, canary(t, ns).Status.Phase)
	assert.Equal(t, int32(0), replicas(t, ns, "podinfo"), "nothing is scaled up before approval")
	assert.Equal(t, split(100, 0), routes.current())
	assert.Equal(t, 1, eventCount(t, ns, "Halt podinfo."+ns+" advancement waiting for approval gate"),
		"one warning, not one per interval")

	env.hooks.open(gate)
	waitPhase(t, ns, flaggerv1.CanaryPhaseSucceeded, 2*time.Minute)
	routes.requireShapes(ladder(50)...)
	requireEvents(t, ns,
		"Halt podinfo."+ns+" advancement waiting for approval gate",
		"Confirm-rollout check gate passed",
		"New revision detected! Scaling up podinfo."+ns,
		"Advance podinfo."+ns+" canary weight 50",
		"Promotion completed! Scaling down podinfo."+ns,
	)
	requirePhases(t, phases, "Initialized", "Waiting", "Progressing", "Promoting", "Succeeded")
	calls := env.hooks.callsTo(ns, gate)
	assert.Equal(t, flaggerv1.CanaryPhaseInitialized, calls[0].Payload.Phase)
	assert.Equal(t, flaggerv1.CanaryPhaseWaiting, calls[len(calls)-1].Payload.Phase)
}
