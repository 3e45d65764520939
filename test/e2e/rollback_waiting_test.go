package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// TestRollbackWebhookWhileWaiting rolls back a release that waits for its
// confirm-rollout approval (Flagger never asks the rollback hooks there).
// The refused revision is recorded: approving the gate afterwards does not
// start it.
func TestRollbackWebhookWhileWaiting(t *testing.T) {
	t.Parallel()
	const ns = "test-rollback-waiting"
	gate, rb := gatePrefix+ns, rollbackPrefix+ns
	deploy(t, seed(t, "podinfo-canary.yaml", ns,
		hook("gate", flaggerv1.ConfirmRolloutHook, gate),
		hook("rollback", flaggerv1.RollbackHook, rb),
	))
	routes := recordRoutes(t, ns, "v1")
	phases := recordPhases(t, ns)
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.1")

	waitPhase(t, ns, flaggerv1.CanaryPhaseWaiting, time.Minute)
	waitEvent(t, ns, time.Minute, "Rollback hook rollback not signaling a rollback")
	env.hooks.open(rb)
	waitPhase(t, ns, flaggerv1.CanaryPhaseFailed, time.Minute)
	requireEvents(t, ns,
		"Halt podinfo."+ns+" advancement waiting for approval gate",
		"Rolling back podinfo."+ns+" manual webhook invoked",
		"Canary failed! Scaling down podinfo."+ns,
	)

	asked := len(env.hooks.callsTo(ns, gate))
	env.hooks.open(gate)
	time.Sleep(25 * time.Second) // two intervals
	assert.Equal(t, asked, len(env.hooks.callsTo(ns, gate)), "the refused revision is not offered again")
	assert.Equal(t, flaggerv1.CanaryPhaseFailed, canary(t, ns).Status.Phase)
	routes.requireShapes(split(100, 0))
	requirePhases(t, phases, "Initialized", "Waiting", "Failed")
	assert.NotContains(t, phases.seen(), "Progressing")
	assert.Equal(t, int32(0), replicas(t, ns, "podinfo"), "never scaled up")
}
