package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/must"
)

// TestProgressDeadlinePrimary promotes a revision that the primary cannot
// roll out: a ResourceQuota, created while the promotion waits for approval,
// admits no pod beyond the four running (two primary, two canary), so the
// primary's rolling update never gets its surge pod. When the primary's own
// progress deadline (copied from the target: 30s) passes, the promotion
// fails the Flagger 1.44 way: all traffic to the canary, which keeps
// running, and phase Failed.
func TestProgressDeadlinePrimary(t *testing.T) {
	t.Parallel()
	const ns = "test-deadline-primary"
	gate := gatePrefix + ns
	deploy(t, seed(t, "podinfo-canary.yaml", ns, shortLadder(), hook("gate", flaggerv1.ConfirmPromotionHook, gate)))
	routes := recordRoutes(t, ns, "v1")
	patch := `{"spec":{"progressDeadlineSeconds":30,"template":{"spec":{"containers":[{"name":"podinfod","image":"ghcr.io/stefanprodan/podinfo:6.0.1"}]}}}}`
	ctx := t.Context()
	_, err := env.kube.AppsV1().Deployments(ns).Patch(ctx, "podinfo",
		"application/strategic-merge-patch+json", []byte(patch), metav1.PatchOptions{})
	require.NoError(t, err)
	waitPhase(t, ns, flaggerv1.CanaryPhaseWaitingPromotion, 2*time.Minute)

	quota := &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "pods"},
		Spec:       corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("4")}},
	}
	_, err = env.kube.CoreV1().ResourceQuotas(ns).Create(ctx, quota, metav1.CreateOptions{})
	require.NoError(t, err)
	must.Eventually(t, time.Minute, time.Second, func() (bool, error) {
		q, err := env.kube.CoreV1().ResourceQuotas(ns).Get(ctx, "pods", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		used := q.Status.Used[corev1.ResourcePods]
		return used.Value() == 4, fmt.Errorf("%s pods used", used.String())
	}, "the quota to count the four pods")

	env.hooks.open(gate)
	waitPhase(t, ns, flaggerv1.CanaryPhaseFailed, 2*time.Minute)
	requireEvents(t, ns,
		"Copying podinfo."+ns+" template spec to podinfo-primary."+ns,
		"Promotion of podinfo."+ns+" failed, primary not ready: podinfo-primary."+ns+" not ready: deployment \"podinfo-primary\" exceeded its progress deadline",
	)
	routes.requireShapes(split(100, 0), split(50, 50), split(0, 100))
	cd := canary(t, ns)
	assert.Equal(t, 100, cd.Status.CanaryWeight)
	require.Len(t, cd.Status.Conditions, 1)
	assert.Equal(t, corev1.ConditionFalse, cd.Status.Conditions[0].Status)
	assert.Equal(t, "Canary promotion failed, primary not ready; all traffic routed to the canary.", cd.Status.Conditions[0].Message)
	assert.Equal(t, int32(2), replicas(t, ns, "podinfo"), "the canary keeps serving")
}
