package router

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/owners"
)

// recreated is podinfoTarget after its Deployment was deleted and created
// again under its name.
var recreated = Target{SelectorLabel: "app", SelectorValue: "podinfo", Owner: owners.Target("podinfo", "new-uid")}

// withOwners stores svc with refs as its owner references, then syncs.
func (e *kubeEnv) withOwners(t *testing.T, name string, refs ...metav1.OwnerReference) {
	t.Helper()
	svc := e.service(t, name).DeepCopy()
	svc.OwnerReferences = refs
	require.NoError(t, e.client.Tracker().Update(servicesGVR, svc, svc.Namespace))
	e.sync(t)
}

func TestKubernetesRouterServicesAreOwnedByTheTarget(t *testing.T) {
	adopted := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test"}}
	e := newKubeEnv(t, adopted)
	cd := newCanary()
	initialized(t, e, cd, podinfoTarget)
	both := []metav1.OwnerReference{owners.Canary(cd), targetOwner}
	for _, name := range []string{"podinfo-primary", "podinfo-canary"} {
		assert.Equal(t, both, e.service(t, name).OwnerReferences, name)
	}
	assert.Empty(t, e.service(t, "podinfo").OwnerReferences, "an adopted apex Service keeps its owners")

	// As an older Serin, or Flagger, created them.
	for _, name := range []string{"podinfo-primary", "podinfo-canary"} {
		e.withOwners(t, name, owners.Canary(cd))
	}
	before := len(e.client.Actions())
	initialized(t, e, cd, podinfoTarget)
	_, updates := writes(e.client.Actions()[before:])
	assert.Equal(t, 2, updates)
	for _, name := range []string{"podinfo-primary", "podinfo-canary"} {
		assert.Equal(t, both, e.service(t, name).OwnerReferences, name)
	}

	before = len(e.client.Actions())
	initialized(t, e, cd, podinfoTarget)
	_, updates = writes(e.client.Actions()[before:])
	assert.Zero(t, updates, "owned already: nothing written")

	initialized(t, e, cd, recreated)
	for _, name := range []string{"podinfo-primary", "podinfo-canary"} {
		assert.Equal(t, []metav1.OwnerReference{owners.Canary(cd), recreated.Owner}, e.service(t, name).OwnerReferences,
			"%s: the re-created target's UID", name)
	}

	noUID := podinfoTarget
	noUID.Owner.UID = ""
	assert.ErrorContains(t, e.router.Reconcile(context.TODO(), cd, noUID), "owner")
}

func TestKubernetesRouterRewriteOwners(t *testing.T) {
	adopted := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test"}}
	e := newKubeEnv(t, adopted)
	cd := newCanary()
	initialized(t, e, cd, podinfoTarget)

	require.NoError(t, e.router.RewriteOwners(context.TODO(), cd, owners.RemoveTarget("podinfo")))
	assert.Empty(t, e.service(t, "podinfo").OwnerReferences, "an adopted apex Service is not the canary's")
	for _, name := range []string{"podinfo-primary", "podinfo-canary"} {
		assert.Equal(t, []metav1.OwnerReference{owners.Canary(cd)}, e.service(t, name).OwnerReferences, name)
	}

	e.sync(t)
	require.NoError(t, e.router.RewriteOwners(context.TODO(), cd, owners.HandOver(cd.UID, targetOwner)))
	for _, name := range []string{"podinfo-primary", "podinfo-canary"} {
		assert.Equal(t, []metav1.OwnerReference{targetOwner}, e.service(t, name).OwnerReferences, name)
	}
	assert.Equal(t, map[string]string{"app": "podinfo-primary"}, e.service(t, "podinfo-primary").Spec.Selector, "still selecting the primary")

	e.sync(t)
	before := len(e.client.Actions())
	require.NoError(t, e.router.RewriteOwners(context.TODO(), cd, owners.HandOver(cd.UID, targetOwner)))
	_, updates := writes(e.client.Actions()[before:])
	assert.Zero(t, updates, "handed over once")
}

func TestGatewayAPIRouteIsOwnedByTheTarget(t *testing.T) {
	forEachVersion(t, func(t *testing.T, e *gatewayEnv) {
		ctx := context.TODO()
		cd := newCanary()
		reconciled(t, e, cd)
		both := []metav1.OwnerReference{owners.Canary(cd), targetOwner}
		assert.Equal(t, both, e.route(t).OwnerReferences)

		// As an older Serin, or Flagger, created it.
		route := e.route(t)
		route.OwnerReferences = []metav1.OwnerReference{owners.Canary(cd)}
		e.put(t, route)
		require.NoError(t, e.router.SetRoutes(ctx, cd, Routes{Primary: 90, Canary: 10}))
		e.sync(t)
		assert.Equal(t, []metav1.OwnerReference{owners.Canary(cd)}, e.route(t).OwnerReferences, "SetRoutes keeps the owners")
		before := len(e.client.Actions())
		reconciled(t, e, cd)
		_, updates := writes(e.client.Actions()[before:])
		assert.Equal(t, 1, updates)
		assert.Equal(t, both, e.route(t).OwnerReferences)
		assert.Equal(t, buildSpec(t, cd, Routes{Primary: 90, Canary: 10}), e.route(t).Spec, "the weights are kept")

		before = len(e.client.Actions())
		reconciled(t, e, cd)
		_, updates = writes(e.client.Actions()[before:])
		assert.Zero(t, updates, "owned already: nothing written")

		require.NoError(t, e.router.Reconcile(ctx, cd, recreated))
		assert.Equal(t, []metav1.OwnerReference{owners.Canary(cd), recreated.Owner}, e.route(t).OwnerReferences,
			"the re-created target's UID")

		assert.ErrorContains(t, e.router.Reconcile(ctx, cd, Target{}), "owner")
	})
}

func TestGatewayAPIRewriteOwners(t *testing.T) {
	forEachVersion(t, func(t *testing.T, e *gatewayEnv) {
		cd := newCanary()
		reconciled(t, e, cd)
		require.NoError(t, e.router.SetRoutes(context.TODO(), cd, Routes{Primary: 100}))
		e.sync(t)

		require.NoError(t, e.router.RewriteOwners(context.TODO(), cd, owners.RemoveTarget("podinfo")))
		e.sync(t)
		assert.Equal(t, []metav1.OwnerReference{owners.Canary(cd)}, e.route(t).OwnerReferences)

		require.NoError(t, e.router.RewriteOwners(context.TODO(), cd, owners.HandOver(cd.UID, targetOwner)))
		e.sync(t)
		route := e.route(t)
		assert.Equal(t, []metav1.OwnerReference{targetOwner}, route.OwnerReferences)
		assert.Equal(t, buildSpec(t, cd, Routes{Primary: 100}), route.Spec, "still routing to the primary")

		before := len(e.client.Actions())
		require.NoError(t, e.router.RewriteOwners(context.TODO(), cd, owners.HandOver(cd.UID, targetOwner)))
		_, updates := writes(e.client.Actions()[before:])
		assert.Zero(t, updates, "a route the canary no longer controls is left alone")

		assert.NoError(t, newGatewayEnv(t, ProviderGatewayAPIV1).router.RewriteOwners(context.TODO(), cd, owners.RemoveTarget("podinfo")),
			"no route, nothing to do")
	})
}
