package traffic

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// shareTolerance is how far, in percentage points, the canary's share of the answers at the
// gateway may be from the HTTPRoute's weight.
const shareTolerance = 5

// TestPromotionUnderLoad releases a good version under steady load: every request through the
// gateway succeeds during the whole rollout, and at each step the canary answers the share of
// requests that the HTTPRoute's weight intends.
func TestPromotionUnderLoad(t *testing.T) {
	sc := newScenario(t, "promote")
	m := sc.meter(t, nil)
	require.NoError(t, env.Release(t.Context(), sc.ns, "ghcr.io/stefanprodan/podinfo:6.0.1", nil))
	cd := sc.follow(t, m)
	require.Equal(t, flaggerv1.CanaryPhaseSucceeded, cd.Status.Phase)
	m.Stop()

	windows := m.Windows()
	env.PrintWindows(windows)
	var steps []int
	failed := 0
	for _, w := range windows {
		failed += w.Failed
		assert.Empty(t, w.Codes, "%s: failed requests by status code (0: no answer)", w.Label)
		// A window ends when the test sees the new weights, up to 250 ms after Traefik may
		// have applied them, so even at weight 0 a request or two may reach the canary.
		if w.Weight > 0 {
			steps = append(steps, w.Weight)
		}
		n := w.Canary + w.Primary
		require.GreaterOrEqual(t, n, 100, "%s: too few answers to measure the split", w.Label)
		assert.InDelta(t, w.Weight, w.Share(), shareTolerance, "%s", w)
	}
	assert.Equal(t, []int{10, 20, 30, 40, 50}, steps, "the canary weights the gateway applied, in order")
	assert.Zero(t, failed, "failed requests through the gateway during the rollout")
	t.Logf("failed requests through the gateway during the rollout: %d", failed)
}
