package e2e

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/must"
)

// templateRoute is a route template with a header filter whose value is version, one rule
// to the apex Service and one to another Service; as a GitOps tool applies it, with field
// manager "gitops".
func applyTemplateRoute(t *testing.T, namespace, name, version string) {
	t.Helper()
	route := map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": map[string]any{"name": name, "namespace": namespace, "labels": map[string]any{"app.kubernetes.io/instance": "gitops-app"}},
		"spec": map[string]any{
			"hostnames": []any{"app.example.com"},
			"rules": []any{
				map[string]any{
					"matches": []any{map[string]any{"path": map[string]any{"type": "PathPrefix", "value": "/api"}}},
					"filters": []any{map[string]any{"type": "RequestHeaderModifier", "requestHeaderModifier": map[string]any{
						"set": []any{map[string]any{"name": "X-Version", "value": version}},
					}}},
					"backendRefs": []any{map[string]any{"name": "podinfo", "port": 9898}},
				},
				map[string]any{
					"matches":     []any{map[string]any{"path": map[string]any{"type": "PathPrefix", "value": "/legacy"}}},
					"backendRefs": []any{map[string]any{"name": "legacy", "port": 80}},
				},
			},
		},
	}
	data, err := json.Marshal(route)
	require.NoError(t, err)
	_, err = env.gateway.GatewayV1().HTTPRoutes(namespace).Patch(t.Context(), name, types.ApplyPatchType, data,
		metav1.PatchOptions{FieldManager: "gitops"})
	require.NoError(t, err)
}

// TestRouteTemplateIsWatched renders the live route podinfo-live from a template that Git
// owns: the rules, filter, other backend and hostnames are kept, the apex reference becomes
// the primary/canary pair and parentRefs come from gatewayRefs. A change to the template
// reaches the live route of the idle canary through the template's informer event alone (an
// idle canary is synced only when an event wakes it), and mid-run between two steps, without
// moving its weights; the template is never written.
func TestRouteTemplateIsWatched(t *testing.T) {
	t.Parallel()
	const ns = "test-template-watch"
	require.NoError(t, ensureNamespace(t.Context(), ns))
	applyTemplateRoute(t, ns, "podinfo-template", "v1")
	deploy(t, seed(t, "podinfo-canary.yaml", ns,
		set(map[string]any{"name": "podinfo-live", "templateRef": map[string]any{"name": "podinfo-template"}}, "spec", "service", "route"),
		// The tutorial's interval: a tick cannot explain a change seen within 20 s.
		set("1m", "spec", "analysis", "interval")))

	live := liveHeader(t, ns, "v1")
	assert.Equal(t, "/api -> primary=100 canary=0 RequestHeaderModifier ; /legacy -> legacy=1", routeShape(&live.Spec))
	assert.Equal(t, []gatewayv1.Hostname{"app.example.com"}, live.Spec.Hostnames)
	require.Len(t, live.Spec.ParentRefs, 1)
	assert.Equal(t, gatewayv1.ObjectName("gateway"), live.Spec.ParentRefs[0].Name)
	assert.NotContains(t, live.Labels, "app.kubernetes.io/instance", "the template's tracking label is not copied")

	// Once the target's pods are gone, nothing else wakes the idle canary.
	waitTargetGone(t, ns)
	applyTemplateRoute(t, ns, "podinfo-template", "v2")
	liveHeader(t, ns, "v2")

	// Mid-run, between two steps a minute apart: the template's edit reaches
	// the live route at once, and the run's weights stay as they are.
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.1")
	waitPhase(t, ns, flaggerv1.CanaryPhaseProgressing, time.Minute)
	applyTemplateRoute(t, ns, "podinfo-template", "v3")
	live = liveHeader(t, ns, "v3")
	assert.Equal(t, "/api -> primary=100 canary=0 RequestHeaderModifier ; /legacy -> legacy=1", routeShape(&live.Spec))
	assert.Equal(t, flaggerv1.CanaryPhaseProgressing, canary(t, ns).Status.Phase)

	tmpl, err := env.gateway.GatewayV1().HTTPRoutes(ns).Get(t.Context(), "podinfo-template", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Empty(t, tmpl.OwnerReferences)
	for _, f := range tmpl.ManagedFields {
		assert.Equal(t, "gitops", f.Manager, "the template's only writer")
	}
}

// liveHeader waits until the live route's first rule sets X-Version to version, and returns it.
func liveHeader(t *testing.T, namespace, version string) *gatewayv1.HTTPRoute {
	t.Helper()
	var live *gatewayv1.HTTPRoute
	// Well under the canary's interval: only the template's event can wake the idle canary.
	must.Eventually(t, 20*time.Second, 250*time.Millisecond, func() (bool, error) {
		var err error
		live, err = env.gateway.GatewayV1().HTTPRoutes(namespace).Get(t.Context(), "podinfo-live", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		f := live.Spec.Rules[0].Filters
		return len(f) == 1 && f[0].RequestHeaderModifier != nil && f[0].RequestHeaderModifier.Set[0].Value == version, nil
	}, "the live route with the template's header %s", version)
	return live
}

// waitTargetGone waits until the target Deployment, scaled to zero at initialization, has
// no pods left: the last events of the initialization.
func waitTargetGone(t *testing.T, namespace string) {
	t.Helper()
	must.Eventually(t, time.Minute, 250*time.Millisecond, func() (bool, error) {
		d, err := env.kube.AppsV1().Deployments(namespace).Get(t.Context(), "podinfo", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return d.Status.Replicas == 0 && d.Status.ObservedGeneration == d.Generation, nil
	}, "the target of %s scaled to zero", namespace)
}
