package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSmoke runs the whole harness on a small fleet and checks that it
// measured what it reports; it checks no timings. Two weight steps keep it
// near a minute and a half.
func TestSmoke(t *testing.T) {
	cfg := config{
		n: 20, interval: 10 * time.Second, stepWeight: 25, maxWeight: 50,
		phases: []string{phaseInit, phaseIdle, phaseRollout}, idle: 5 * time.Second,
		perNamespace: 10, workloads: workloadsKWOK, logf: t.Logf,
	}
	require.NoError(t, cfg.validate())
	res, err := run(t.Context(), cfg)
	require.NoError(t, err)

	assert.Zero(t, res.failed)
	assert.Len(t, res.rolloutTimes, cfg.n, "every canary's rollout was timed")
	// Weights 25 then 50: one gap per canary between the two steps.
	assert.Len(t, res.gaps, cfg.n)
	assert.Positive(t, res.lateness.total(), "the operator's lateness histogram was read")
	assert.Positive(t, res.eventsPosted, "the bench waited for the operator's events")
	assert.Zero(t, res.eventsDropped)
	assert.GreaterOrEqual(t, res.eventsDelivered, 2*cfg.n, "the Canaries' Events counted: at least one per weight step")

	// The audit log attributes requests to the operator's identity, and to
	// the right phase: three Services per canary at init, route weights in
	// the rollout.
	assert.Equal(t, 3*cfg.n, res.initRequests["create services"])
	assert.GreaterOrEqual(t, res.rolloutRequests["update httproutes"], 2*cfg.n)
	assert.Zero(t, res.rolloutRequests["create services"])

	for _, name := range []string{"serin", "kube-apiserver", "etcd", "kube-controller-manager", "kwok"} {
		assert.Positive(t, res.rolloutUsage[name].cpu, "CPU of %s", name)
		assert.Positive(t, res.rolloutUsage[name].peakRSS, "RSS of %s", name)
	}
	assert.Contains(t, res.markdown(), "| 20 | kwok |")
	assert.Contains(t, res.markdown(), "Events: all posted")
}
