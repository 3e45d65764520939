package router

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/owners"
)

// forEachVersion runs a router test against both Gateway API versions.
func forEachVersion(t *testing.T, test func(t *testing.T, e *gatewayEnv)) {
	for _, provider := range []string{ProviderGatewayAPIV1, ProviderGatewayAPIV1beta1} {
		t.Run(provider, func(t *testing.T) { test(t, newGatewayEnv(t, provider)) })
	}
}

// reconciled runs Reconcile on a fresh env and syncs the lister.
func reconciled(t *testing.T, e *gatewayEnv, cd *flaggerv1.Canary) {
	t.Helper()
	require.NoError(t, e.router.Reconcile(context.TODO(), cd, podinfoTarget))
	e.sync(t)
}

func TestGatewayAPIReconcileCreatesOnce(t *testing.T) {
	forEachVersion(t, func(t *testing.T, e *gatewayEnv) {
		cd := newCanary(withService(func(s *flaggerv1.CanaryService) {
			s.Apex = &flaggerv1.CustomMetadata{Labels: map[string]string{"team": "web"}, Annotations: map[string]string{"note": "x"}}
		}))
		reconciled(t, e, cd)

		route := e.route(t)
		assert.Equal(t, buildSpec(t, cd, Routes{Primary: 100}), route.Spec)
		assert.Equal(t, map[string]string{"team": "web"}, route.Labels)
		assert.Equal(t, map[string]string{"note": "x"}, route.Annotations)
		require.Len(t, route.OwnerReferences, 2)
		assert.Equal(t, targetOwner, route.OwnerReferences[1], "owned by the target too")
		owner := route.OwnerReferences[0]
		assert.Equal(t, "Canary", owner.Kind)
		assert.Equal(t, "flagger.app/v1beta1", owner.APIVersion)
		assert.Equal(t, cd.UID, owner.UID)
		assert.True(t, *owner.Controller)

		require.NoError(t, e.router.Reconcile(context.TODO(), cd, podinfoTarget))
		creates, updates := writes(e.client.Actions())
		assert.Equal(t, 1, creates)
		assert.Equal(t, 0, updates)
		assert.Equal(t, e.gvr, e.client.Actions()[0].GetResource(), "written through the provider's API version")
	})
}

func TestGatewayAPISetRoutesGetRoutesRoundTrip(t *testing.T) {
	forEachVersion(t, func(t *testing.T, e *gatewayEnv) {
		cd := newCanary()
		reconciled(t, e, cd)
		ctx := context.TODO()

		routes, err := e.router.GetRoutes(ctx, cd)
		require.NoError(t, err)
		assert.Equal(t, Routes{Primary: 100}, routes)

		for _, want := range []Routes{{Primary: 60, Canary: 40}, {Primary: 100, Mirrored: true}, {Primary: 0, Canary: 100}} {
			require.NoError(t, e.router.SetRoutes(ctx, cd, want))
			e.sync(t)
			got, err := e.router.GetRoutes(ctx, cd)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		}
		_, updates := writes(e.client.Actions())
		assert.Equal(t, 3, updates)

		// Same weights again, then a Reconcile: nothing to write, and the
		// weights stay where SetRoutes put them.
		require.NoError(t, e.router.SetRoutes(ctx, cd, Routes{Primary: 0, Canary: 100}))
		require.NoError(t, e.router.Reconcile(ctx, cd, podinfoTarget))
		_, updates = writes(e.client.Actions())
		assert.Equal(t, 3, updates)
	})
}

func TestGatewayAPIReconcileRevertsDriftButKeepsTraffic(t *testing.T) {
	forEachVersion(t, func(t *testing.T, e *gatewayEnv) {
		cd := newCanary(withAnalysis(func(a *flaggerv1.CanaryAnalysis) { a.Mirror = true }))
		reconciled(t, e, cd)
		ctx := context.TODO()
		require.NoError(t, e.router.SetRoutes(ctx, cd, Routes{Primary: 70, Canary: 30, Mirrored: true}))
		e.sync(t)

		edited := e.route(t)
		edited.Spec.Hostnames = []gatewayv1.Hostname{"evil.example.com"}
		edited.Spec.Rules[0].Filters = nil
		edited.Annotations = map[string]string{"application-networking.k8s.aws/lattice-assigned-domain-name": "x"}
		edited.Labels = map[string]string{"argocd.argoproj.io/instance": "web"}
		e.put(t, edited)

		require.NoError(t, e.router.Reconcile(ctx, cd, podinfoTarget))
		e.sync(t)
		route := e.route(t)
		assert.Equal(t, []gatewayv1.Hostname{"www.example.com"}, route.Spec.Hostnames)
		assert.Equal(t, edited.Annotations, route.Annotations, "foreign annotations are kept")
		assert.Equal(t, edited.Labels, route.Labels, "foreign labels are kept")
		// The mirror filter was edited away with the rest, so the split
		// read back is the weights alone.
		routes, err := e.router.GetRoutes(ctx, cd)
		require.NoError(t, err)
		assert.Equal(t, Routes{Primary: 70, Canary: 30}, routes)

		before := len(e.client.Actions())
		require.NoError(t, e.router.Reconcile(ctx, cd, podinfoTarget))
		_, updates := writes(e.client.Actions()[before:])
		assert.Zero(t, updates)
	})
}

func TestGatewayAPIReconcileIgnoresServerDefaults(t *testing.T) {
	forEachVersion(t, func(t *testing.T, e *gatewayEnv) {
		cd := newCanary(withInsiderAB())
		reconciled(t, e, cd)
		defaulted := e.route(t)
		defaulted.Generation = 2
		defaulted.Spec.ParentRefs[0].Group = ptrTo(gatewayv1.Group(gatewayv1.GroupName))
		defaulted.Spec.ParentRefs[0].Kind = ptrTo(gatewayv1.Kind("Gateway"))
		defaulted.Spec.Rules[0].Filters = []gatewayv1.HTTPRouteFilter{}
		e.put(t, defaulted)

		require.NoError(t, e.router.Reconcile(context.TODO(), cd, podinfoTarget))
		_, updates := writes(e.client.Actions())
		assert.Zero(t, updates)
	})
}

func TestGatewayAPIReconcileAdoptsUnownedRoute(t *testing.T) {
	forEachVersion(t, func(t *testing.T, e *gatewayEnv) {
		e.put(t, &gatewayv1.HTTPRoute{
			ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test"},
			Spec: gatewayv1.HTTPRouteSpec{Rules: []gatewayv1.HTTPRouteRule{{
				BackendRefs: []gatewayv1.HTTPBackendRef{{BackendRef: gatewayv1.BackendRef{BackendObjectReference: gatewayv1.BackendObjectReference{Name: "podinfo"}}}},
			}}},
		})
		cd := newCanary()
		reconciled(t, e, cd)

		route := e.route(t)
		assert.Equal(t, buildSpec(t, cd, Routes{Primary: 100}), route.Spec)
		assert.Empty(t, route.OwnerReferences, "an adopted route is not garbage-collected with the Canary")
	})
}

func TestGatewayAPIRefusesRouteOfAnotherOwner(t *testing.T) {
	forEachVersion(t, func(t *testing.T, e *gatewayEnv) {
		other := newCanary()
		other.Name, other.UID = "podinfo-v2", "uid-other"
		e.put(t, &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{
			Name: "podinfo", Namespace: "test", OwnerReferences: []metav1.OwnerReference{owners.Canary(other)},
		}})
		err := e.router.Reconcile(context.TODO(), newCanary(), podinfoTarget)
		require.ErrorIs(t, err, ErrNotControlled)
		_, updates := writes(e.client.Actions())
		assert.Zero(t, updates)
	})
}

func TestGatewayAPIRefusesUnsupportedSpec(t *testing.T) {
	forEachVersion(t, func(t *testing.T, e *gatewayEnv) {
		cd := newCanary(withService(func(s *flaggerv1.CanaryService) {
			s.Match = []flaggerv1.HTTPMatchRequest{{Method: &flaggerv1.StringMatch{Regex: ".*"}}}
		}))
		err := e.router.Reconcile(context.TODO(), cd, podinfoTarget)
		var unsupported *UnsupportedError
		require.ErrorAs(t, err, &unsupported)

		err = e.router.Reconcile(context.TODO(), newCanary(withService(func(s *flaggerv1.CanaryService) { s.GatewayRefs = nil })), podinfoTarget)
		require.ErrorIs(t, err, ErrNoGatewayRefs)
		assert.Empty(t, e.client.Actions())
	})
}

func TestGatewayAPIGetRoutesWaitsForAcceptance(t *testing.T) {
	forEachVersion(t, func(t *testing.T, e *gatewayEnv) {
		cd := newCanary()
		reconciled(t, e, cd)
		route := e.route(t)
		route.Generation = 2
		route.Status.Parents = []gatewayv1.RouteParentStatus{parentStatus(accepted(metav1.ConditionTrue, 1))}
		e.put(t, route)

		_, err := e.router.GetRoutes(context.TODO(), cd)
		require.ErrorIs(t, err, ErrRouteNotAccepted)
		var notAccepted *RouteNotAcceptedError
		require.ErrorAs(t, err, &notAccepted)
		assert.Equal(t, int64(1), notAccepted.ObservedGeneration)

		route.Status.Parents = []gatewayv1.RouteParentStatus{parentStatus(accepted(metav1.ConditionTrue, 0))}
		e.put(t, route)
		routes, err := e.router.GetRoutes(context.TODO(), cd)
		require.NoError(t, err)
		assert.Equal(t, Routes{Primary: 100}, routes)
	})
}

func TestGatewayAPIABRoundTrip(t *testing.T) {
	forEachVersion(t, func(t *testing.T, e *gatewayEnv) {
		cd := newCanary(withInsiderAB())
		reconciled(t, e, cd)
		require.NoError(t, e.router.SetRoutes(context.TODO(), cd, Routes{Primary: 0, Canary: 100}))
		e.sync(t)

		route := e.route(t)
		require.Len(t, route.Spec.Rules, 2)
		assert.Equal(t, []gatewayv1.HTTPBackendRef{svcBackend("podinfo-primary", 100)}, route.Spec.Rules[1].BackendRefs)
		routes, err := e.router.GetRoutes(context.TODO(), cd)
		require.NoError(t, err)
		assert.Equal(t, Routes{Primary: 0, Canary: 100}, routes)
	})
}

func TestGatewayAPIMissingRoute(t *testing.T) {
	forEachVersion(t, func(t *testing.T, e *gatewayEnv) {
		err := e.router.SetRoutes(context.TODO(), newCanary(), Routes{Primary: 100})
		assert.True(t, apierrors.IsNotFound(err), "got %v", err)
		_, err = e.router.GetRoutes(context.TODO(), newCanary())
		assert.True(t, apierrors.IsNotFound(err), "got %v", err)
		assert.NoError(t, e.router.Finalize(context.TODO(), newCanary()))
	})
}
