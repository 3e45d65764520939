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

	"github.com/serin-dev/serin/test/must"
)

// TestDeleteWithoutRevert deletes a Canary that has no revertOnDeletion,
// after a promotion, while its target is scaled to zero. In Flagger,
// garbage collection then removes the primary and the routing with it: an
// outage (#853). In Serin the objects the Canary created are handed over to
// the target Deployment: the primary keeps serving through the same
// Services and HTTPRoute, and they go when the target goes.
func TestDeleteWithoutRevert(t *testing.T) {
	t.Parallel()
	const ns = "test-delete"
	deploy(t, seed(t, "podinfo-canary.yaml", ns))
	ctx := t.Context()
	target, err := env.kube.AppsV1().Deployments(ns).Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, int32(0), *target.Spec.Replicas)

	require.NoError(t, env.flagger.FlaggerV1beta1().Canaries(ns).Delete(ctx, "podinfo", metav1.DeleteOptions{}))
	must.Eventually(t, time.Minute, 250*time.Millisecond, func() (bool, error) {
		_, err := env.flagger.FlaggerV1beta1().Canaries(ns).Get(ctx, "podinfo", metav1.GetOptions{})
		return apierrors.IsNotFound(err), fmt.Errorf("canary still there: %v", err)
	}, "the Canary to go")
	requireEvents(t, ns, "Canary podinfo."+ns+" deleted without revertOnDeletion")

	// The garbage collector works within seconds; what it leaves after a
	// while it keeps, since every object now has an owner that exists.
	time.Sleep(10 * time.Second)
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
	require.NoError(t, serving(), "no outage: the primary still serves behind the same Service and route")
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
