package router

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var targetOwner = metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo", UID: "target-uid"}

func TestKubernetesRouterHandOver(t *testing.T) {
	adopted := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test"}}
	e := newKubeEnv(t, adopted)
	cd := newCanary()
	initialized(t, e, cd, podinfoTarget)

	require.NoError(t, e.router.HandOver(context.TODO(), cd, targetOwner))
	assert.Empty(t, e.service(t, "podinfo").OwnerReferences, "an adopted apex Service is not the canary's")
	for _, name := range []string{"podinfo-primary", "podinfo-canary"} {
		assert.Equal(t, []metav1.OwnerReference{targetOwner}, e.service(t, name).OwnerReferences, name)
	}
	assert.Equal(t, map[string]string{"app": "podinfo-primary"}, e.service(t, "podinfo-primary").Spec.Selector, "still selecting the primary")

	e.sync(t)
	before := len(e.client.Actions())
	require.NoError(t, e.router.HandOver(context.TODO(), cd, targetOwner))
	_, updates := writes(e.client.Actions()[before:])
	assert.Zero(t, updates, "handed over once")
}

func TestGatewayAPIHandOver(t *testing.T) {
	forEachVersion(t, func(t *testing.T, e *gatewayEnv) {
		cd := newCanary()
		reconciled(t, e, cd)
		require.NoError(t, e.router.SetRoutes(context.TODO(), cd, Routes{Primary: 100}))

		require.NoError(t, e.router.HandOver(context.TODO(), cd, targetOwner))
		e.sync(t)
		route := e.route(t)
		assert.Equal(t, []metav1.OwnerReference{targetOwner}, route.OwnerReferences)
		assert.Equal(t, buildSpec(t, cd, Routes{Primary: 100}), route.Spec, "still routing to the primary")

		before := len(e.client.Actions())
		require.NoError(t, e.router.HandOver(context.TODO(), cd, targetOwner))
		_, updates := writes(e.client.Actions()[before:])
		assert.Zero(t, updates, "a route the canary no longer controls is left alone")

		assert.NoError(t, newGatewayEnv(t, ProviderGatewayAPIV1).router.HandOver(context.TODO(), cd, targetOwner), "no route, nothing to do")
	})
}
