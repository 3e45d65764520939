package e2e

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/metricsexporter"
)

// errNotYet is what a wait's condition says while it does not hold.
var errNotYet = errors.New("not yet")

// judgeTemplates are the MetricTemplates of a count comparison over the
// exporter's istio_requests_total, per arm: {{ workload }} is the arm's
// Deployment, which the exporter labels destination_workload.
func judgeTemplates(t *testing.T, namespace string) {
	t.Helper()
	for name, filter := range map[string]string{
		"judge-errors":   `,response_code=~"5.*"`,
		"judge-requests": ``,
	} {
		tmpl := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "flagger.app/v1beta1", "kind": "MetricTemplate",
			"metadata": map[string]any{"name": name, "namespace": namespace},
			"spec": map[string]any{
				"provider": map[string]any{"type": "prometheus", "address": env.prom.URL()},
				"query": `sum(istio_requests_total{reporter="source",destination_workload_namespace="{{ namespace }}",` +
					`destination_workload="{{ workload }}"` + filter + `})`,
			},
		}}
		require.NoError(t, apply(t.Context(), tmpl))
	}
}

// judgedCanary is the tutorial's canary judged against a baseline on its
// error count instead of the fixed error-rate threshold.
func judgedCanary(early bool) edit {
	return func(t *testing.T, cd *unstructured.Unstructured) {
		t.Helper()
		require.NoError(t, unstructured.SetNestedMap(cd.Object, map[string]any{
			"baseline": true, "earlyPromotion": early, "minRequests": int64(500),
		}, "spec", "analysis", "judge"))
		require.NoError(t, unstructured.SetNestedSlice(cd.Object, []any{map[string]any{
			"name":        "errors",
			"templateRef": map[string]any{"name": "judge-errors"},
			"compare": map[string]any{
				"kind": "count", "totalTemplateRef": map[string]any{"name": "judge-requests"}, "tolerance": "1",
			},
		}}, "spec", "analysis", "metrics"))
	}
}

// TestJudge runs the judge's releases on the KWOK stack, where the exporter
// makes each arm's counters grow as configured.
func TestJudge(t *testing.T) {
	t.Parallel()
	t.Run("RollsBackWhatTheThresholdLetsThrough", func(t *testing.T) { t.Parallel(); testJudgeRollback(t) })
	t.Run("PromotesAnAAReleaseEarly", func(t *testing.T) { t.Parallel(); testJudgeAA(t) })
}

// testJudgeRollback: the canary fails 0.9% of its requests, under the
// tutorial's max 1 (%), three times the baseline's 0.3%. The judge rolls it
// back, and the baseline is gone after.
func testJudgeRollback(t *testing.T) {
	const ns = "test-judge-rollback"
	require.NoError(t, ensureNamespace(t.Context(), ns))
	judgeTemplates(t, ns)
	deploy(t, seed(t, "podinfo-canary.yaml", ns, judgedCanary(false)))
	env.exporter.Set(ns, "podinfo-baseline", metricsexporter.Traffic{RPS: 100, ErrorRatio: 0.003, Latency: 20 * time.Millisecond})
	env.exporter.Set(ns, "podinfo", metricsexporter.Traffic{RPS: 100, ErrorRatio: 0.009, Latency: 20 * time.Millisecond})
	start := time.Now()
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.1")

	seenBaselineWeight := waitBaselineWeight(t, ns)
	waitPhase(t, ns, flaggerv1.CanaryPhaseFailed, 4*time.Minute)
	t.Logf("rolled back %s after the new revision; events:\n%s", time.Since(start).Round(time.Second),
		strings.Join(eventMessages(t, ns), "\n"))
	assert.Greater(t, seenBaselineWeight, 0, "the baseline took traffic")
	requireEvents(t, ns,
		"Rolling back podinfo."+ns+": judge: errors:",
	)
	cd := canary(t, ns)
	require.Len(t, cd.Status.Judge, 1)
	assert.Equal(t, "Fail", cd.Status.Judge[0].Verdict)
	assert.NotEmpty(t, cd.Status.Judge[0].State)
	waitNoBaselineDeployment(t, ns)
}

// testJudgeAA: canary and baseline run the same version with the same 2%
// of errors; with earlyPromotion the judge promotes before the last step.
func testJudgeAA(t *testing.T) {
	const ns = "test-judge-aa"
	require.NoError(t, ensureNamespace(t.Context(), ns))
	judgeTemplates(t, ns)
	deploy(t, seed(t, "podinfo-canary.yaml", ns, judgedCanary(true)))
	same := metricsexporter.Traffic{RPS: 200, ErrorRatio: 0.02, Latency: 20 * time.Millisecond}
	env.exporter.Set(ns, "podinfo-baseline", same)
	env.exporter.Set(ns, "podinfo", same)
	start := time.Now()
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.1")

	waitPhase(t, ns, flaggerv1.CanaryPhaseSucceeded, 5*time.Minute)
	t.Logf("promoted %s after the new revision; events:\n%s", time.Since(start).Round(time.Second),
		strings.Join(eventMessages(t, ns), "\n"))
	requireEvents(t, ns, "Judge: every compared metric passed; promoting podinfo."+ns+" before its last step")
	waitNoBaselineDeployment(t, ns)
}

// waitBaselineWeight waits until the route gives the baseline traffic and
// returns the weight it saw.
func waitBaselineWeight(t *testing.T, ns string) int {
	t.Helper()
	var weight int
	waitCanary(t, ns, 3*time.Minute, "a baseline weight", func(*flaggerv1.Canary) error {
		route, err := env.gateway.GatewayV1().HTTPRoutes(ns).Get(t.Context(), "podinfo", metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, r := range route.Spec.Rules {
			for _, b := range r.BackendRefs {
				if b.Name == "podinfo-baseline" && b.Weight != nil && *b.Weight > 0 {
					weight = int(*b.Weight)
					return nil
				}
			}
		}
		return errNotYet
	})
	return weight
}

// waitNoBaselineDeployment waits until the baseline's pods are gone.
func waitNoBaselineDeployment(t *testing.T, ns string) {
	t.Helper()
	waitCanary(t, ns, time.Minute, "no baseline Deployment", func(*flaggerv1.Canary) error {
		_, err := env.kube.AppsV1().Deployments(ns).Get(t.Context(), "podinfo-baseline", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err == nil {
			return errNotYet
		}
		return err
	})
}
