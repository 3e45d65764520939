package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/serin-dev/serin/pkg/router"
	"github.com/serin-dev/serin/test/lib/must"
)

// TestGRPCRouteDriftIsCorrected bootstraps a GRPCRoute canary: the route has all calls on the
// primary, the Services speak h2c, and no HTTPRoute is made. Edits to the GRPCRoute by someone
// else wake the idle canary through the GRPCRoute informer, which puts the route back.
func TestGRPCRouteDriftIsCorrected(t *testing.T) {
	t.Parallel()
	const ns = "test-grpc-drift"
	deploy(t, seed(t, "podinfo-canary.yaml", ns, set("GRPCRoute", "spec", "service", "route", "kind"),
		// The tutorial's interval: a tick cannot explain a repair seen within 20 s.
		set("1m", "spec", "analysis", "interval")))
	ctx := t.Context()

	route, err := env.gateway.GatewayV1().GRPCRoutes(ns).Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	want := route.Spec.DeepCopy()
	assert.Equal(t, map[string]int32{"podinfo-primary": 100, "podinfo-canary": 0}, grpcWeights(route.Spec.Rules[0].BackendRefs))
	_, err = env.gateway.GatewayV1().HTTPRoutes(ns).Get(ctx, "podinfo", metav1.GetOptions{})
	assert.True(t, err != nil, "no HTTPRoute for a GRPCRoute canary")
	for _, name := range []string{"podinfo-primary", "podinfo-canary"} {
		svc, err := env.kube.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, router.H2CAppProtocol, *svc.Spec.Ports[0].AppProtocol, name)
	}

	// Once the target's pods are gone, nothing else wakes the idle canary.
	waitTargetGone(t, ns)
	route, err = env.gateway.GatewayV1().GRPCRoutes(ns).Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	route.Spec.Hostnames = []gatewayv1.Hostname{"evil.example.com"}
	route.Spec.Rules[0].BackendRefs = route.Spec.Rules[0].BackendRefs[:1]
	_, err = env.gateway.GatewayV1().GRPCRoutes(ns).Update(ctx, route, metav1.UpdateOptions{})
	require.NoError(t, err)
	// Well under the canary's interval: only the route's event can wake the idle canary.
	must.Eventually(t, 20*time.Second, 250*time.Millisecond, func() (bool, error) {
		got, err := env.gateway.GatewayV1().GRPCRoutes(ns).Get(ctx, "podinfo", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return equality.Semantic.DeepEqual(got.Spec, *want), nil
	}, "the GRPCRoute put back")
}

func grpcWeights(refs []gatewayv1.GRPCBackendRef) map[string]int32 {
	out := map[string]int32{}
	for _, b := range refs {
		out[string(b.Name)] = weightOf(b.Weight)
	}
	return out
}
