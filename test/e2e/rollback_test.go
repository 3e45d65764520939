package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/metricsexporter"
)

// TestAutomatedRollback is the tutorial's "Automated rollback": the new
// revision answers 60% errors, the error-rate check halts the analysis
// until the threshold of 5 is reached, and Serin rolls back.
func TestAutomatedRollback(t *testing.T) {
	t.Parallel()
	const ns = "test-rollback"
	bootstrap(t, ns)
	env.exporter.Set(ns, "podinfo", metricsexporter.Traffic{RPS: 20, ErrorRatio: 0.6, Latency: 20 * time.Millisecond})
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.2")

	waitPhase(t, ns, flaggerv1.CanaryPhaseFailed, 4*time.Minute)
	requireEvents(t, ns,
		"New revision detected! Scaling up podinfo."+ns,
		"Advance podinfo."+ns+" canary weight 10",
		"Halt podinfo."+ns+" advancement error-rate",
		"Rolling back podinfo."+ns+" failed checks threshold reached 5",
		"Canary failed! Scaling down podinfo."+ns,
	)

	ctx := t.Context()
	route, err := env.gateway.GatewayV1().HTTPRoutes(ns).Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	for _, b := range route.Spec.Rules[0].BackendRefs {
		want := int32(0)
		if b.Name == "podinfo-primary" {
			want = 100
		}
		assert.Equal(t, want, *b.Weight, string(b.Name))
	}
	target, err := env.kube.AppsV1().Deployments(ns).Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(0), *target.Spec.Replicas)
	primary, err := env.kube.AppsV1().Deployments(ns).Get(ctx, "podinfo-primary", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "ghcr.io/stefanprodan/podinfo:6.0.0", primary.Spec.Template.Spec.Containers[0].Image,
		"the primary is untouched")
	cd := canary(t, ns)
	assert.Equal(t, 5, cd.Status.FailedChecks, "Unlike Flagger, failedChecks shows why it failed")
	assert.Equal(t, 0, cd.Status.CanaryWeight)
}
