package traffic

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// comparingSlow adds the count of requests slower than 100 ms to the judged Canary's compared
// metrics.
func comparingSlow(cd *unstructured.Unstructured) {
	metrics, _, _ := unstructured.NestedSlice(cd.Object, "spec", "analysis", "metrics")
	metrics = append(metrics, map[string]any{
		"name":        "slow",
		"templateRef": map[string]any{"name": "judge-slow"},
		"compare": map[string]any{
			"kind": "count", "totalTemplateRef": map[string]any{"name": "judge-requests"},
		},
	})
	_ = unstructured.SetNestedSlice(cd.Object, metrics, "spec", "analysis", "metrics")
}

// TestJudgeRollsBackSlowRequests releases a version that adds up to 150 ms to its answers
// (podinfo's random delay; podinfo draws it once a second): the tutorial's latency check (p99
// under 500 ms) lets it through, the judge's count of requests slower than 100 ms, compared
// with the baseline's, rolls it back.
func TestJudgeRollsBackSlowRequests(t *testing.T) {
	sc := newJudgeScenario(t, "judge-slow", true, comparingSlow)
	m, _ := sc.startJudgeLoad(t, 0, 0)
	run := sc.followJudgeMetric(t, "slow", podinfoV1, map[string]string{
		"PODINFO_RANDOM_DELAY": "true", "PODINFO_RANDOM_DELAY_UNIT": "ms",
		"PODINFO_RANDOM_DELAY_MIN": "0", "PODINFO_RANDOM_DELAY_MAX": "150",
	})
	t.Logf("up to 150 ms slower: %s", run)
	t.Logf("load: %d requests, %d failed", m.sent.Load(), m.failures.Load())
	require.Equal(t, flaggerv1.CanaryPhaseFailed, run.phase, "%s", run)
	assert.Equal(t, "Fail", run.verdict, "the judge failed the canary on slow requests: %s", run)
}
