package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// TestAutomatedPromotion is the tutorial's "Automated canary promotion": a
// new image is analysed at 10/20/30/40/50% of the traffic, promoted, and the
// traffic returns to the primary.
func TestAutomatedPromotion(t *testing.T) {
	t.Parallel()
	const ns = "test"
	bootstrap(t, ns)
	weights := watchWeights(t, ns)
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.1")

	waitProgressing(t, ns, 20, "the analysis to progress")
	row := rowOf(kubectlGetCanaries(t), ns)
	fields := strings.Fields(row)
	require.GreaterOrEqual(t, len(fields), 4, row)
	assert.Equal(t, []string{ns, "podinfo", "Progressing"}, fields[:3], "kubectl get canaries -A")
	assert.Contains(t, []string{"20", "30", "40", "50"}, fields[3])

	// Flagger's metrics, as dashboards and alert rules read them.
	weight, ok := scrape(t, "flagger_canary_weight", map[string]string{"workload": "podinfo", "namespace": ns})
	assert.True(t, ok && weight >= 20, "flagger_canary_weight of the canary mid-analysis: %v", weight)
	status, ok := scrape(t, "flagger_canary_status", map[string]string{"name": "podinfo", "namespace": ns})
	assert.True(t, ok && status == 0, "flagger_canary_status is 0 while progressing: %v", status)

	waitPhase(t, ns, flaggerv1.CanaryPhaseSucceeded, 4*time.Minute)
	out, err := exec.Command("kubectl", "--kubeconfig", env.cluster.KubeconfigPath, "-n", ns,
		"wait", "canary/podinfo", "--for=condition=promoted", "--timeout=10s").CombinedOutput()
	require.NoError(t, err, "kubectl wait --for=condition=promoted, as CI pipelines do: %s", out)
	assert.Equal(t, []int32{0, 10, 20, 30, 40, 50, 0}, weights.seen())
	weight, _ = scrape(t, "flagger_canary_weight", map[string]string{"workload": "podinfo", "namespace": ns})
	assert.Zero(t, weight, "flagger_canary_weight after promotion")
	status, _ = scrape(t, "flagger_canary_status", map[string]string{"name": "podinfo", "namespace": ns})
	assert.Equal(t, 1.0, status, "flagger_canary_status after promotion")
	successes, _ := scrape(t, "flagger_canary_successes_total", map[string]string{"name": "podinfo", "namespace": ns,
		"deployment_strategy": "canary", "analysis_status": "completed"})
	assert.Equal(t, 1.0, successes, "flagger_canary_successes_total")

	requireEvents(t, ns,
		"New revision detected! Scaling up podinfo.test",
		"Starting canary analysis for podinfo.test",
		"Pre-rollout check smoke-test passed",
		"Advance podinfo.test canary weight 10",
		"Advance podinfo.test canary weight 20",
		"Advance podinfo.test canary weight 30",
		"Advance podinfo.test canary weight 40",
		"Advance podinfo.test canary weight 50",
		"Copying podinfo.test template spec to podinfo-primary.test",
		"Routing all traffic to primary",
		"Promotion completed! Scaling down podinfo.test",
	)

	ctx := t.Context()
	primary, err := env.kube.AppsV1().Deployments(ns).Get(ctx, "podinfo-primary", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "ghcr.io/stefanprodan/podinfo:6.0.1", primary.Spec.Template.Spec.Containers[0].Image)
	target, err := env.kube.AppsV1().Deployments(ns).Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(0), *target.Spec.Replicas)

	cd := canary(t, ns)
	assert.Equal(t, 0, cd.Status.CanaryWeight)
	assert.Equal(t, cd.Status.LastAppliedSpec, cd.Status.LastPromotedSpec)

	var hooks []string
	for _, p := range env.hooks.payloads(ns) {
		hooks = append(hooks, string(p.Phase)+" "+p.Metadata["cmd"])
	}
	assert.Contains(t, strings.Join(hooks, "\n"), "curl -sd 'anon' http://podinfo-canary.test:9898/token | grep token",
		"the pre-rollout smoke test was called")
	assert.Contains(t, strings.Join(hooks, "\n"), "hey -z 2m -q 10 -c 2", "the load test was called")
}

// rowOf returns the line of `kubectl get canaries -A` for a namespace.
func rowOf(out, ns string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, ns+" ") {
			return line
		}
	}
	return ""
}
