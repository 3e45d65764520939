package controller

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/must"
)

// settleIdle initialises the canary and empties the queue: from here on,
// only what the test does wakes the canary.
func (f *fixture) settleIdle(t *testing.T) {
	t.Helper()
	f.syncUntil(t, flaggerv1.CanaryPhaseInitialized, func() { f.markPrimaryReady(t) })
	require.NoError(t, f.ctrl.sync(context.Background(), f.key)) // settles anything still pending
	f.drain(t)
}

// repairByEvent waits until an informer event has enqueued the canary,
// then runs its sync through the worker, as the controller would.
func (f *fixture) repairByEvent(t *testing.T) {
	t.Helper()
	must.Eventually(t, 5*time.Second, 5*time.Millisecond, func() (bool, error) {
		return f.ctrl.queue.Len() > 0, nil
	}, "the canary woken")
	for f.ctrl.queue.Len() > 0 {
		require.True(t, f.ctrl.processNextItem(context.Background()))
	}
}

// assertQuietAfterRepair checks that the events of the repair's own writes
// wake the canary at no API cost: a repair does not start a loop.
func (f *fixture) assertQuietAfterRepair(t *testing.T) {
	t.Helper()
	time.Sleep(100 * time.Millisecond)
	f.kube.ClearActions()
	f.flagger.ClearActions()
	f.gateway.ClearActions()
	for f.ctrl.queue.Len() > 0 {
		require.True(t, f.ctrl.processNextItem(context.Background()))
	}
	assert.Empty(t, f.kube.Actions(), "Kubernetes API requests after the repair")
	assert.Empty(t, f.flagger.Actions(), "Canary API requests after the repair")
	assert.Empty(t, f.gateway.Actions(), "Gateway API requests after the repair")
}

// TestIdleCanaryRepairsDeletedObjects deletes, one at a time, what an
// idle canary manages; each deletion alone wakes it, and its sync puts the
// object back.
func TestIdleCanaryRepairsDeletedObjects(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		delete func(*fixture) error
		exists func(*fixture) error
	}{
		{"primary Deployment",
			func(f *fixture) error {
				return f.kube.AppsV1().Deployments("test").Delete(ctx, "podinfo-primary", metav1.DeleteOptions{})
			},
			func(f *fixture) error {
				_, err := f.kube.AppsV1().Deployments("test").Get(ctx, "podinfo-primary", metav1.GetOptions{})
				return err
			}},
		{"apex Service", deleteService("podinfo"), serviceExists("podinfo")},
		{"primary Service", deleteService("podinfo-primary"), serviceExists("podinfo-primary")},
		{"canary Service", deleteService("podinfo-canary"), serviceExists("podinfo-canary")},
		{"HTTPRoute",
			func(f *fixture) error {
				return f.gateway.GatewayV1().HTTPRoutes("test").Delete(ctx, "podinfo", metav1.DeleteOptions{})
			},
			func(f *fixture) error {
				_, err := f.gateway.GatewayV1().HTTPRoutes("test").Get(ctx, "podinfo", metav1.GetOptions{})
				return err
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.settleIdle(t)
			require.NoError(t, tc.delete(f))
			f.repairByEvent(t)
			assert.NoError(t, tc.exists(f), "repaired")
			f.assertQuietAfterRepair(t)
		})
	}
}

func deleteService(name string) func(*fixture) error {
	return func(f *fixture) error {
		return f.kube.CoreV1().Services("test").Delete(context.Background(), name, metav1.DeleteOptions{})
	}
}

func serviceExists(name string) func(*fixture) error {
	return func(f *fixture) error {
		_, err := f.kube.CoreV1().Services("test").Get(context.Background(), name, metav1.GetOptions{})
		return err
	}
}

// TestIdleCanaryRepairsApexSelector resets the apex Service's selector to
// the target's pods, which an idle canary scaled to zero: the edit alone
// wakes the canary, which points the Service back at the primary. A
// status-only update of a Service wakes nothing.
func TestIdleCanaryRepairsApexSelector(t *testing.T) {
	f := newFixture(t)
	f.settleIdle(t)
	ctx := context.Background()
	services := f.kube.CoreV1().Services("test")

	svc, err := services.Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	svc.Status.Conditions = []metav1.Condition{{Type: "Example", Status: metav1.ConditionTrue, Reason: "Test",
		LastTransitionTime: metav1.NewTime(f.clock.Now())}}
	_, err = services.UpdateStatus(ctx, svc, metav1.UpdateOptions{})
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond)
	assert.Zero(t, f.ctrl.queue.Len(), "a status update wakes nothing")

	svc, err = services.Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	svc.Spec.Selector = map[string]string{"app": "podinfo"}
	_, err = services.Update(ctx, svc, metav1.UpdateOptions{})
	require.NoError(t, err)
	f.repairByEvent(t)
	svc, err = services.Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"app": "podinfo-primary"}, svc.Spec.Selector)
	f.assertQuietAfterRepair(t)
}

// TestDeletedPrimaryAutoscalerWakesCanary: a deleted primary HPA wakes its
// canary (an idle sync re-creates a missing one); its status updates, which
// the HPA controller writes every 15 seconds, do not.
func TestDeletedPrimaryAutoscalerWakesCanary(t *testing.T) {
	f := newFixture(t)
	f.settleIdle(t)
	ctx := context.Background()
	cd, err := f.ctrl.canaries.Canaries("test").Get("podinfo")
	require.NoError(t, err)
	hpas := f.kube.AutoscalingV2().HorizontalPodAutoscalers("test")
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo-primary", Namespace: "test",
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(cd, flaggerv1.SchemeGroupVersion.WithKind("Canary"))}},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{MaxReplicas: 4},
	}
	hpa, err = hpas.Create(ctx, hpa, metav1.CreateOptions{})
	require.NoError(t, err)
	hpa.Status.CurrentReplicas = 2
	_, err = hpas.UpdateStatus(ctx, hpa, metav1.UpdateOptions{})
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond)
	assert.Zero(t, f.ctrl.queue.Len(), "creating and updating the HPA wakes nothing")

	require.NoError(t, hpas.Delete(ctx, "podinfo-primary", metav1.DeleteOptions{}))
	must.Eventually(t, 5*time.Second, 5*time.Millisecond, func() (bool, error) {
		return f.ctrl.queue.Len() == 1, nil
	}, "the deletion wakes the canary")
	key, _ := f.ctrl.queue.Get()
	f.ctrl.queue.Done(key)
	assert.Equal(t, f.key, key)
}

// TestServiceOfAnotherCanaryWakesNothing: Services are matched by the
// names a canary manages, so an unrelated Service's changes wake nobody.
func TestServiceOfAnotherCanaryWakesNothing(t *testing.T) {
	f := newFixture(t)
	f.settleIdle(t)
	ctx := context.Background()
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "test"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "other"}}}
	_, err := f.kube.CoreV1().Services("test").Create(ctx, svc, metav1.CreateOptions{})
	require.NoError(t, err)
	svc.Spec.Selector = map[string]string{"app": "changed"}
	_, err = f.kube.CoreV1().Services("test").Update(ctx, svc, metav1.UpdateOptions{})
	require.NoError(t, err)
	require.NoError(t, f.kube.CoreV1().Services("test").Delete(ctx, "other", metav1.DeleteOptions{}))
	time.Sleep(100 * time.Millisecond)
	assert.Zero(t, f.ctrl.queue.Len())
}

// TestRouteTemplateWakesItsCanaries: a change to a route template (kept in
// Git, never written by Serin) wakes the canaries that render it, found by
// the route index; a route no canary names wakes nobody.
func TestRouteTemplateWakesItsCanaries(t *testing.T) {
	f := newFixture(t)
	f.settleIdle(t)
	ctx := context.Background()
	web := testCanary()
	web.Name, web.UID = "web", "uid-web"
	web.Spec.Service.Route = &flaggerv1.CanaryRoute{Name: "web", TemplateRef: &flaggerv1.LocalObjectReference{Name: "web-template"}}
	_, err := f.flagger.FlaggerV1beta1().Canaries("test").Create(ctx, web, metav1.CreateOptions{})
	require.NoError(t, err)
	must.Eventually(t, 5*time.Second, 5*time.Millisecond, func() (bool, error) {
		objs, err := f.ctrl.canaryIndexer.ByIndex(routeIndex, "test/HTTPRoute/web-template")
		return len(objs) == 1, err
	}, "the canary indexed by its template")

	for _, tc := range []struct {
		route string
		woken []cache.ObjectName
	}{
		{"unrelated", nil},
		{"web-template", []cache.ObjectName{{Namespace: "test", Name: "web"}}},
	} {
		f.drain(t)
		route := &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Name: tc.route, Namespace: "test"}}
		_, err = f.gateway.GatewayV1().HTTPRoutes("test").Create(ctx, route, metav1.CreateOptions{})
		require.NoError(t, err)
		time.Sleep(100 * time.Millisecond)
		var woken []cache.ObjectName
		for f.ctrl.queue.Len() > 0 {
			key, _ := f.ctrl.queue.Get()
			woken = append(woken, key)
			f.ctrl.queue.Done(key)
		}
		assert.Equal(t, tc.woken, woken, tc.route)
	}
}
