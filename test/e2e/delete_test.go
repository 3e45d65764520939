package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/serin-dev/serin/test/lib/must"
)

// TestDeleteWithoutRevert deletes a Canary that has no revertOnDeletion,
// after a promotion, while its target is scaled to zero. In Flagger,
// garbage collection then removes the primary and the routing with it: an
// outage (#853). In Serin the Canary has no finalizer and goes at once;
// what it created is owned by the target Deployment too, so the garbage
// collector only drops the Canary from their owners: the primary keeps
// serving through the same Services and HTTPRoute, and they go when the
// target goes.
func TestDeleteWithoutRevert(t *testing.T) {
	t.Parallel()
	const ns = "test-delete"
	deploy(t, seed(t, "podinfo-canary.yaml", ns))
	ctx := t.Context()
	target, err := env.kube.AppsV1().Deployments(ns).Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, int32(0), *target.Spec.Replicas)
	require.Empty(t, canary(t, ns).Finalizers, "no finalizer without revertOnDeletion")

	require.NoError(t, env.flagger.FlaggerV1beta1().Canaries(ns).Delete(ctx, "podinfo", metav1.DeleteOptions{}))
	must.Eventually(t, 10*time.Second, 250*time.Millisecond, func() (bool, error) {
		_, err := env.flagger.FlaggerV1beta1().Canaries(ns).Get(ctx, "podinfo", metav1.GetOptions{})
		return apierrors.IsNotFound(err), fmt.Errorf("canary still there: %v", err)
	}, "the Canary to go at once")

	serving := func() error {
		primary, err := env.kube.AppsV1().Deployments(ns).Get(ctx, "podinfo-primary", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if primary.Status.AvailableReplicas < 1 {
			return fmt.Errorf("primary has no available replica")
		}
		for _, name := range []string{"podinfo", "podinfo-primary"} {
			svc, err := env.kube.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if svc.Spec.Selector["app"] != "podinfo-primary" {
				return fmt.Errorf("service %s selects %v", name, svc.Spec.Selector)
			}
			if err := ownedByTarget(svc.OwnerReferences, target.UID); err != nil {
				return fmt.Errorf("service %s: %w", name, err)
			}
		}
		route, err := env.gateway.GatewayV1().HTTPRoutes(ns).Get(ctx, "podinfo", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if shape := routeShape(&route.Spec); shape != split(100, 0) {
			return fmt.Errorf("route %s", shape)
		}
		if err := ownedByTarget(route.OwnerReferences, target.UID); err != nil {
			return fmt.Errorf("route: %w", err)
		}
		return ownedByTarget(primary.OwnerReferences, target.UID)
	}
	// The garbage collector drops the Canary from the owners within
	// seconds, and keeps the objects: their other owner, the target, exists.
	must.Eventually(t, time.Minute, 500*time.Millisecond, func() (bool, error) {
		err := serving()
		return err == nil, err
	}, "no outage: the primary still serves behind the same Service and route, owned by the target")
	time.Sleep(5 * time.Second)
	require.NoError(t, serving(), "and keeps serving")
	for _, name := range []string{"podinfo-primary", "podinfo-config-primary"} {
		var refs []metav1.OwnerReference
		if name == "podinfo-config-primary" {
			cm, err := env.kube.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
			require.NoError(t, err)
			refs = cm.OwnerReferences
		} else {
			hpa, err := env.kube.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, name, metav1.GetOptions{})
			require.NoError(t, err)
			refs = hpa.OwnerReferences
		}
		assert.NoError(t, ownedByTarget(refs, target.UID), name)
	}

	// Deleting the application removes what Serin created with it.
	require.NoError(t, env.kube.AppsV1().Deployments(ns).Delete(ctx, "podinfo", metav1.DeleteOptions{}))
	must.Eventually(t, time.Minute, 500*time.Millisecond, func() (bool, error) {
		_, errDep := env.kube.AppsV1().Deployments(ns).Get(ctx, "podinfo-primary", metav1.GetOptions{})
		_, errSvc := env.kube.CoreV1().Services(ns).Get(ctx, "podinfo", metav1.GetOptions{})
		_, errRoute := env.gateway.GatewayV1().HTTPRoutes(ns).Get(ctx, "podinfo", metav1.GetOptions{})
		gone := apierrors.IsNotFound(errDep) && apierrors.IsNotFound(errSvc) && apierrors.IsNotFound(errRoute)
		return gone, fmt.Errorf("primary: %v, apex service: %v, route: %v", errDep, errSvc, errRoute)
	}, "garbage collection with the target")
}

// ownedByTarget checks that an object's only owner is the target
// Deployment, as a plain (not controller) reference.
func ownedByTarget(refs []metav1.OwnerReference, uid types.UID) error {
	if len(refs) != 1 || refs[0].Kind != "Deployment" || refs[0].Name != "podinfo" || refs[0].UID != uid {
		return fmt.Errorf("owners %v", refs)
	}
	if refs[0].Controller != nil && *refs[0].Controller {
		return fmt.Errorf("the target is the controller")
	}
	return nil
}
