package install

import (
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/test/lib/installer"
)

// keepPolicy is the one annotation the chart adds to what kustomize renders:
// Helm's instruction to leave the CRDs on uninstall (which would otherwise
// delete every Canary and, by owner references, every primary). kubectl
// and the API server ignore it.
const keepPolicy = "helm.sh/resource-policy"

// renderChart renders the chart with GatewayAPIValues and more arguments,
// keyed "Kind namespace/name".
func renderChart(t *testing.T, args ...string) map[string]*unstructured.Unstructured {
	t.Helper()
	objs, err := installer.RenderChart(t.Context(), t.TempDir(), append(slices.Clone(installer.GatewayAPIValues), args...)...)
	require.NoError(t, err)
	return byKey(t, objs)
}

func byKey(t *testing.T, objs []*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	t.Helper()
	m := map[string]*unstructured.Unstructured{}
	for _, obj := range objs {
		key := obj.GetKind() + " " + obj.GetNamespace() + "/" + obj.GetName()
		require.NotContains(t, m, key, "rendered twice")
		m[key] = obj
	}
	return m
}

// TestChartRendersKustomizeGatewayAPI: the chart with its defaults and the
// provider and Prometheus of kustomize/gatewayapi renders the objects of
// `kubectl kustomize kustomize/gatewayapi`, field for field, but for the
// Namespace, which `helm install --create-namespace` creates (a chart that
// renders its own namespace cannot be installed into it), and the CRDs'
// keep policy.
func TestChartRendersKustomizeGatewayAPI(t *testing.T) {
	objs, err := installer.Render(t.Context(), "kustomize/gatewayapi")
	require.NoError(t, err)
	want := byKey(t, objs)
	require.Contains(t, want, "Namespace /"+installer.Namespace)
	delete(want, "Namespace /"+installer.Namespace)

	got := renderChart(t)
	assert.ElementsMatch(t, slices.Collect(maps.Keys(want)), slices.Collect(maps.Keys(got)))
	for key, w := range want {
		g, ok := got[key]
		if !ok {
			continue
		}
		if g.GetKind() == "CustomResourceDefinition" {
			annotations := g.GetAnnotations()
			assert.Equal(t, "keep", annotations[keepPolicy], key)
			delete(annotations, keepPolicy)
			g.SetAnnotations(annotations)
		}
		assert.Equal(t, w.Object, g.Object, key)
	}
}
