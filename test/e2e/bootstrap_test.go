package e2e

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// TestBootstrap checks the objects the tutorial shows after the Canary is
// applied: the primary Deployment and HPA, three Services, the HTTPRoute on
// the Gateway with all traffic on the primary, and the target at zero.
func TestBootstrap(t *testing.T) {
	t.Parallel()
	const ns = "test-bootstrap"
	bootstrap(t, ns)
	ctx := t.Context()

	cd := canary(t, ns)
	require.Len(t, cd.Status.Conditions, 1)
	assert.Equal(t, flaggerv1.PromotedType, cd.Status.Conditions[0].Type)
	assert.Equal(t, corev1.ConditionTrue, cd.Status.Conditions[0].Status)
	assert.NotEmpty(t, cd.Status.LastAppliedSpec)
	assert.Equal(t, cd.Generation, cd.Status.ObservedGeneration)
	assert.Contains(t, *cd.Status.TrackedConfigs, "configmap/podinfo-config")

	primary, err := env.kube.AppsV1().Deployments(ns).Get(ctx, "podinfo-primary", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "podinfo-primary", primary.Spec.Selector.MatchLabels["app"])
	assert.Equal(t, "ghcr.io/stefanprodan/podinfo:6.0.0", primary.Spec.Template.Spec.Containers[0].Image)
	assert.Equal(t, "podinfo-config-primary", primary.Spec.Template.Spec.Containers[0].EnvFrom[0].ConfigMapRef.Name)
	_, err = env.kube.CoreV1().ConfigMaps(ns).Get(ctx, "podinfo-config-primary", metav1.GetOptions{})
	require.NoError(t, err)

	hpa, err := env.kube.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, "podinfo-primary", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "podinfo-primary", hpa.Spec.ScaleTargetRef.Name)

	selectors := map[string]string{"podinfo": "podinfo-primary", "podinfo-primary": "podinfo-primary", "podinfo-canary": "podinfo"}
	for name, selects := range selectors {
		svc, err := env.kube.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
		require.NoError(t, err, name)
		assert.Equal(t, selects, svc.Spec.Selector["app"], name)
		assert.Equal(t, int32(9898), svc.Spec.Ports[0].Port, name)
	}

	route, err := env.gateway.GatewayV1().HTTPRoutes(ns).Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	require.Len(t, route.Spec.ParentRefs, 1)
	assert.Equal(t, "gateway", string(route.Spec.ParentRefs[0].Name))
	assert.Equal(t, "istio-ingress", string(*route.Spec.ParentRefs[0].Namespace))
	assert.Equal(t, "www.example.com", string(route.Spec.Hostnames[0]))
	weights := map[string]int32{}
	for _, b := range route.Spec.Rules[0].BackendRefs {
		weights[string(b.Name)] = *b.Weight
	}
	assert.Equal(t, map[string]int32{"podinfo-primary": 100, "podinfo-canary": 0}, weights)

	target, err := env.kube.AppsV1().Deployments(ns).Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(0), *target.Spec.Replicas, "the target is scaled to zero")

	requireEvents(t, ns, "Initialization done! podinfo."+ns)
}
