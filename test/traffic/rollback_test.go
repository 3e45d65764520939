package traffic

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// TestRollbackOnErrors releases a version that answers errors (podinfo's --random-error,
// through its environment): the error rate that Traefik's metrics show makes the analysis fail,
// Serin routes everything back to the primary, and the errors stop at the gateway.
func TestRollbackOnErrors(t *testing.T) {
	// Three failed checks instead of five: the verdict is the same, a minute sooner. The
	// pre-rollout smoke test goes: podinfo's --random-error fails about one request in three, so
	// the smoke test's single curl would sometimes halt the rollout three times before any user
	// traffic reached the canary, and the gateway would never see the errors this test is about.
	sc := newScenario(t, "rollback", func(cd *unstructured.Unstructured) {
		_ = unstructured.SetNestedField(cd.Object, int64(3), "spec", "analysis", "threshold")
		hooks, _, _ := unstructured.NestedSlice(cd.Object, "spec", "analysis", "webhooks")
		kept := hooks[:0]
		for _, h := range hooks {
			if h.(map[string]any)["type"] != "pre-rollout" {
				kept = append(kept, h)
			}
		}
		_ = unstructured.SetNestedSlice(cd.Object, kept, "spec", "analysis", "webhooks")
	})
	m := sc.meter(t, nil)
	require.NoError(t, env.Release(t.Context(), sc.ns, "ghcr.io/stefanprodan/podinfo:6.0.1",
		map[string]string{"PODINFO_RANDOM_ERROR": "true"}))
	cd := sc.follow(t, m)
	require.Equal(t, flaggerv1.CanaryPhaseFailed, cd.Status.Phase)

	primary, canary, ok := env.RouteWeights(t.Context(), sc.ns)
	require.True(t, ok)
	assert.Equal(t, [2]int{100, 0}, [2]int{primary, canary}, "all traffic back on the primary")

	// Measure the split the rollback left, once Traefik has applied it (it took up to 2 s on 2
	// busy cores).
	time.Sleep(3 * time.Second)
	m.Mark("after the rollback", 0)
	time.Sleep(5 * time.Second)
	m.Stop()
	windows := m.Windows()
	env.PrintWindows(windows)
	failed := 0
	for _, w := range windows[:len(windows)-1] {
		failed += w.Failed
	}
	assert.Positive(t, failed, "the bad release answered errors at the gateway before the rollback")
	last := windows[len(windows)-1]
	require.Equal(t, 0, last.Weight)
	assert.Positive(t, last.Primary, "the primary answers after the rollback")
	assert.Zero(t, last.Canary, "after the rollback the canary answers nothing")
	assert.Zero(t, last.Failed, "no errors at the gateway after the rollback")
}
