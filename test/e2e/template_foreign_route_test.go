package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/manifest"
)

// TestForeignRouteIsNeverOverwritten gives a Canary a route name that a route written by
// someone else already holds: the canary reports the owner (its field manager) and leaves the
// route alone; once that route is deleted, its deletion alone wakes the canary, which creates
// its own and initializes.
func TestForeignRouteIsNeverOverwritten(t *testing.T) {
	t.Parallel()
	const ns = "test-template-foreign"
	require.NoError(t, ensureNamespace(t.Context(), ns))
	applyTemplateRoute(t, ns, "podinfo-template", "v1")
	applyTemplateRoute(t, ns, "team-b", "team-b")
	before, err := env.gateway.GatewayV1().HTTPRoutes(ns).Get(t.Context(), "team-b", metav1.GetOptions{})
	require.NoError(t, err)

	cd := seed(t, "podinfo-canary.yaml", ns,
		set(map[string]any{"name": "team-b", "templateRef": map[string]any{"name": "podinfo-template"}}, "spec", "service", "route"))
	require.NoError(t, apply(t.Context(), cd))
	deployApp(t, ns)
	waitEvent(t, ns, 2*time.Minute, "HTTPRoute team-b."+ns+" exists and is not controlled by this canary (owner: gitops)")
	after, err := env.gateway.GatewayV1().HTTPRoutes(ns).Get(t.Context(), "team-b", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, before.ResourceVersion, after.ResourceVersion, "the foreign route is not written")
	c := canary(t, ns)
	require.NotEmpty(t, c.Status.Conditions)
	assert.True(t, strings.Contains(c.Status.Conditions[0].Message, "not controlled by this canary"), c.Status.Conditions[0].Message)

	require.NoError(t, env.gateway.GatewayV1().HTTPRoutes(ns).Delete(t.Context(), "team-b", metav1.DeleteOptions{}))
	waitPhase(t, ns, flaggerv1.CanaryPhaseInitialized, time.Minute)
	live, err := env.gateway.GatewayV1().HTTPRoutes(ns).Get(t.Context(), "team-b", metav1.GetOptions{})
	require.NoError(t, err)
	assert.True(t, metav1.IsControlledBy(live, c))
}

// deployApp applies podinfo in namespace as deploy does, without a Canary or a wait.
func deployApp(t *testing.T, namespace string) {
	t.Helper()
	env.exporter.Set(namespace, "podinfo", healthy)
	env.exporter.Set(namespace, "podinfo-primary", healthy)
	objs, err := manifest.ReadFiles(filepath.Join("testdata", "podinfo.yaml"))
	require.NoError(t, err)
	for _, obj := range objs {
		obj.SetNamespace(namespace)
		require.NoError(t, apply(t.Context(), obj))
	}
}
