package traffic

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/metadata"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/must"
	"github.com/serin-dev/serin/test/lib/splitmeter"
)

// TestGRPCABTestingThroughTraefik runs an A/B release on a GRPCRoute: while the iterations
// run, every call with the x-canary: insider metadata is answered by the canary and every
// other one by the primary; then the canary is promoted.
func TestGRPCABTestingThroughTraefik(t *testing.T) {
	sc := newGRPCScenario(t, "grpc-ab", func(cd *unstructured.Unstructured) {
		unstructured.RemoveNestedField(cd.Object, "spec", "analysis", "maxWeight")
		unstructured.RemoveNestedField(cd.Object, "spec", "analysis", "stepWeight")
		_ = unstructured.SetNestedField(cd.Object, int64(2), "spec", "analysis", "iterations")
		_ = unstructured.SetNestedSlice(cd.Object, []any{
			map[string]any{"headers": map[string]any{"x-canary": map[string]any{"exact": "insider"}}},
		}, "spec", "analysis", "match")
	})
	insider := sc.grpcMeter(t, metadata.Pairs("x-canary", "insider"))
	everyone := sc.grpcMeter(t, nil)
	require.NoError(t, env.Release(t.Context(), sc.ns, "ghcr.io/stefanprodan/podinfo:6.0.1", nil))

	must.Eventually(t, 2*time.Minute, 250*time.Millisecond, func() (bool, error) {
		rt, err := env.Gateway.GatewayV1().GRPCRoutes(sc.ns).Get(t.Context(), "podinfo", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		w, _ := grpcCanaryWeight(rt.Spec.Rules)
		return w == 100, nil
	}, "the A/B rule in GRPCRoute %s/podinfo", sc.ns)
	insider.Mark("A/B", 100)
	everyone.Mark("A/B", 0)
	// The first iteration is counted as the A/B rule is written; the second one interval later.
	_, err := env.WaitIterations(t.Context(), sc.ns, 2, 2*time.Minute)
	require.NoError(t, err)
	for _, m := range []*splitmeter.Meter{insider, everyone} {
		m.Mark("after an iteration", 0)
	}
	for name, m := range map[string]*splitmeter.Meter{"insider metadata": insider, "no match": everyone} {
		w := m.Windows()[1]
		t.Logf("%s: %s", name, w)
		require.Greater(t, w.Canary+w.Primary, 100, "%s: too few answers", name)
		assert.Zero(t, w.Failed, "%s: failed calls", name)
		if w.Weight == 100 {
			assert.Zero(t, w.Primary, "%s: every matching call reaches the canary", name)
		} else {
			assert.Zero(t, w.Canary, "%s: no other call reaches the canary", name)
		}
	}
	cd, err := env.WaitPhase(t.Context(), sc.ns, 3*time.Minute, flaggerv1.CanaryPhaseSucceeded, flaggerv1.CanaryPhaseFailed)
	require.NoError(t, err)
	assert.Equal(t, flaggerv1.CanaryPhaseSucceeded, cd.Status.Phase)
}
