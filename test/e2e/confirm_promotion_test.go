package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/must"
)

// TestConfirmPromotion gates the promotion with a confirm-promotion
// webhook: at the max weight the canary waits in WaitingPromotion with its
// traffic, and the analysis keeps running every interval (the load test is
// called with phase WaitingPromotion); once the gate answers 200 it is
// promoted.
func TestConfirmPromotion(t *testing.T) {
	t.Parallel()
	const ns = "test-confirm-promotion"
	gate := gatePrefix + ns
	deploy(t, seed(t, "podinfo-canary.yaml", ns, shortLadder(), hook("gate", flaggerv1.ConfirmPromotionHook, gate)))
	routes := recordRoutes(t, ns, "v1")
	phases := recordPhases(t, ns)
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.1")

	waitPhase(t, ns, flaggerv1.CanaryPhaseWaitingPromotion, 2*time.Minute)
	loadTests := func() int {
		n := 0
		for _, p := range env.hooks.payloads(ns) {
			if p.Phase == flaggerv1.CanaryPhaseWaitingPromotion && strings.HasPrefix(p.Metadata["cmd"], "hey") {
				n++
			}
		}
		return n
	}
	must.Eventually(t, time.Minute, time.Second, func() (bool, error) {
		n := loadTests()
		return n >= 2, fmt.Errorf("%d load tests while waiting", n)
	}, "the analysis to keep running while waiting for promotion")
	cd := canary(t, ns)
	assert.Equal(t, flaggerv1.CanaryPhaseWaitingPromotion, cd.Status.Phase)
	assert.Equal(t, 50, cd.Status.CanaryWeight, "Unlike Flagger, the real weight is shown")
	assert.Equal(t, split(50, 50), routes.current(), "the canary keeps its traffic")
	assert.GreaterOrEqual(t, eventCount(t, ns, "Halt podinfo."+ns+" advancement waiting for promotion approval gate"), 2)

	env.hooks.open(gate)
	waitPhase(t, ns, flaggerv1.CanaryPhaseSucceeded, 2*time.Minute)
	routes.requireShapes(ladder(50)...)
	requireEvents(t, ns,
		"Advance podinfo."+ns+" canary weight 50",
		"Halt podinfo."+ns+" advancement waiting for promotion approval gate",
		"Confirm-promotion check gate passed",
		"Copying podinfo."+ns+" template spec to podinfo-primary."+ns,
		"Promotion completed! Scaling down podinfo."+ns,
	)
	requirePhases(t, phases, "Progressing", "WaitingPromotion", "Promoting", "Succeeded")
}
