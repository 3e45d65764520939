package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/must"
)

// TestIdleCanaryRepairsDrift breaks, one at a time, what an idle canary
// manages, and waits for Serin to repair it with nothing else happening:
// the informer event of the damage is the only trigger (issue 12, item 6).
// Between repairs the idle canary makes no API request.
//
// The canary is Initialized rather than Succeeded, which would take a
// release with a Gateway controller accepting the route: both phases run
// the same idle tick.
func TestIdleCanaryRepairsDrift(t *testing.T) {
	const ns = "drift"
	ctx := context.Background()
	spy := &apiSpy{namespace: ns}
	startOperator(t, ns, spy.wrap)
	playDeployments(t, ns)
	ensureNamespace(t, ns)
	createPodinfos(t, ns, 1)
	mustReachPhase(t, ns, 1, flaggerv1.CanaryPhaseInitialized, time.Minute)
	mustStayIdle(t, spy)

	t.Run("primary Deployment deleted", func(t *testing.T) {
		deployments := kube.AppsV1().Deployments(ns)
		primary, err := deployments.Get(ctx, "podinfo-0-primary", metav1.GetOptions{})
		require.NoError(t, err)
		require.NoError(t, deployments.Delete(ctx, primary.Name, metav1.DeleteOptions{}))
		mustRepair(t, func() (bool, error) {
			d, err := deployments.Get(ctx, primary.Name, metav1.GetOptions{})
			return err == nil && d.UID != primary.UID, err
		}, "the primary re-created")
	})

	t.Run("apex Service selector reset", func(t *testing.T) {
		services := kube.CoreV1().Services(ns)
		apex, err := services.Get(ctx, "podinfo-0", metav1.GetOptions{})
		require.NoError(t, err)
		want := apex.Spec.Selector
		require.Equal(t, map[string]string{"app": "podinfo-0-primary"}, want)
		apex.Spec.Selector = map[string]string{"app": "podinfo-0"}
		_, err = services.Update(ctx, apex, metav1.UpdateOptions{})
		require.NoError(t, err)
		mustRepair(t, func() (bool, error) {
			svc, err := services.Get(ctx, "podinfo-0", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			return equality.Semantic.DeepEqual(svc.Spec.Selector, want), fmt.Errorf("selector %v", svc.Spec.Selector)
		}, "the apex Service selects the primary again")
	})

	for _, name := range []string{"podinfo-0", "podinfo-0-primary", "podinfo-0-canary"} {
		t.Run("Service "+name+" deleted", func(t *testing.T) {
			services := kube.CoreV1().Services(ns)
			svc, err := services.Get(ctx, name, metav1.GetOptions{})
			require.NoError(t, err)
			require.NoError(t, services.Delete(ctx, name, metav1.DeleteOptions{}))
			mustRepair(t, recreated(func() (types.UID, error) {
				svc, err := services.Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					return "", err
				}
				return svc.UID, nil
			}, svc.UID), "Service %s re-created", name)
		})
	}

	t.Run("HTTPRoute deleted", func(t *testing.T) {
		routes := dyn.Resource(httpRoutes).Namespace(ns)
		route, err := routes.Get(ctx, "podinfo-0", metav1.GetOptions{})
		require.NoError(t, err)
		require.NoError(t, routes.Delete(ctx, "podinfo-0", metav1.DeleteOptions{}))
		mustRepair(t, recreated(func() (types.UID, error) {
			route, err := routes.Get(ctx, "podinfo-0", metav1.GetOptions{})
			if err != nil {
				return "", err
			}
			return route.GetUID(), nil
		}, route.GetUID()), "the HTTPRoute re-created")
	})
	mustStayIdle(t, spy)
}

// mustRepair waits for a repair; it comes from the damage's informer event
// at once, so the bound is short of any periodic resync or analysis
// interval.
func mustRepair(t *testing.T, repaired must.Condition, msgAndArgs ...any) {
	t.Helper()
	must.Eventually(t, 5*time.Second, 50*time.Millisecond, repaired, msgAndArgs...)
}

// recreated reports whether the object that uid returns exists under
// another UID than old.
func recreated(uid func() (types.UID, error), old types.UID) must.Condition {
	return func() (bool, error) {
		got, err := uid()
		return err == nil && got != old, err
	}
}

// mustStayIdle waits for the operator's last requests in the namespace to
// end, then checks that an idle canary makes none.
func mustStayIdle(t *testing.T, spy *apiSpy) {
	t.Helper()
	mustSettle(t, &spy.requests, 2*time.Second)
	before := spy.requests.Load()
	time.Sleep(2 * time.Second)
	assert.Equal(t, before, spy.requests.Load(), "API requests of an idle canary")
}
