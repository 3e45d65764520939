package controller

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeinformers "k8s.io/client-go/informers"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayfake "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned/fake"
	gatewayinformers "sigs.k8s.io/gateway-api/pkg/client/informers/externalversions"

	"github.com/serin-dev/serin/pkg/analysis"
	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/canary"
	flaggerfake "github.com/serin-dev/serin/pkg/client/clientset/versioned/fake"
	informers "github.com/serin-dev/serin/pkg/client/informers/externalversions"
	"github.com/serin-dev/serin/pkg/metrics"
	"github.com/serin-dev/serin/pkg/notifier"
	"github.com/serin-dev/serin/pkg/router"
	"github.com/serin-dev/serin/pkg/syncerr"
	"github.com/serin-dev/serin/pkg/telemetry"
	"github.com/serin-dev/serin/pkg/webhook"
	"github.com/serin-dev/serin/test/lib/must"
	"github.com/serin-dev/serin/test/lib/secretlister"
)

// fixture is a controller over fake clientsets, with real informers fed by
// them, so that the test sees exactly which API requests a sync makes.
type fixture struct {
	ctrl    *Controller
	kube    *kubefake.Clientset
	flagger *flaggerfake.Clientset
	gateway *gatewayfake.Clientset
	clock   *testingclock.FakeClock
	key     cache.ObjectName
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		kube:    kubefake.NewClientset(target()),
		flagger: flaggerfake.NewSimpleClientset(testCanary()),
		gateway: gatewayfake.NewClientset(),
		clock:   testingclock.NewFakeClock(time.Date(2026, 11, 26, 6, 0, 0, 0, time.UTC)),
		key:     cache.ObjectName{Namespace: "test", Name: "podinfo"},
	}
	kubeFactory := kubeinformers.NewSharedInformerFactory(f.kube, 0)
	flaggerFactory := informers.NewSharedInformerFactory(f.flagger, 0)
	gatewayFactory := gatewayinformers.NewSharedInformerFactory(f.gateway, 0)
	routes := gatewayFactory.Gateway().V1().HTTPRoutes()
	rt, err := router.New(router.ProviderGatewayAPIV1, router.Config{GatewayClient: f.gateway, HTTPRouteListerV1: routes.Lister()})
	require.NoError(t, err)
	secrets := secretlister.Lister{SecretLister: kubeFactory.Core().V1().Secrets().Lister()}
	workload, err := canary.NewDeployments(canary.Config{
		KubeClient:  f.kube,
		Deployments: kubeFactory.Apps().V1().Deployments().Lister(),
		DaemonSets:  kubeFactory.Apps().V1().DaemonSets().Lister(),
		HPAs:        kubeFactory.Autoscaling().V2().HorizontalPodAutoscalers().Lister(),
		ConfigMaps:  kubeFactory.Core().V1().ConfigMaps().Lister(),
		Secrets:     secrets,
		Clock:       f.clock,
	})
	require.NoError(t, err)
	alerts, err := notifier.NewDispatcher(notifier.DispatcherConfig{
		AlertProviders: flaggerFactory.Flagger().V1beta1().AlertProviders().Lister(),
		Secrets:        secrets,
	})
	require.NoError(t, err)
	f.ctrl, err = New(Config{
		KubeClient:       f.kube,
		FlaggerClient:    f.flagger,
		KubeInformers:    kubeFactory,
		FlaggerInformers: flaggerFactory,
		RouteInformers:   []cache.SharedIndexInformer{routes.Informer()},
		SecretInformer:   kubeFactory.Core().V1().Secrets().Informer(),
		Plugins: Plugins{
			Workload: workload,
			Services: router.NewKubernetesRouter(f.kube, kubeFactory.Core().V1().Services().Lister()),
			Routers:  map[string]router.Interface{router.ProviderGatewayAPIV1: rt},
			Metrics:  metrics.NewProviderCache(0),
			Webhooks: webhook.NewCaller(webhook.Config{}),
			Secrets:  secrets,
			Alerts:   alerts,
			Releases: telemetry.NewReleases(flaggerFactory.Flagger().V1beta1().Canaries().Lister()),
		},
		Recorder:     record.NewFakeRecorder(100),
		Logger:       logrus.NewEntry(logrus.New()),
		Clock:        f.clock,
		MeshProvider: router.ProviderGatewayAPIV1,
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	kubeFactory.Start(ctx.Done())
	flaggerFactory.Start(ctx.Done())
	gatewayFactory.Start(ctx.Done())
	require.True(t, cache.WaitForCacheSync(ctx.Done(), f.ctrl.synced...))
	return f
}

func target() *appsv1.Deployment {
	labels := map[string]string{"app": "podinfo"}
	return &appsv1.Deployment{
		// The fake API server assigns no UID; a real one always does.
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test", UID: "podinfo-uid"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "podinfod", Image: "podinfo:6.0.0"}}},
			},
		},
		Status: readyStatus(2),
	}
}

func readyStatus(replicas int32) appsv1.DeploymentStatus {
	return appsv1.DeploymentStatus{Replicas: replicas, UpdatedReplicas: replicas, ReadyReplicas: replicas, AvailableReplicas: replicas}
}

func testCanary() *flaggerv1.Canary {
	return &flaggerv1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test", Generation: 1},
		Spec: flaggerv1.CanarySpec{
			TargetRef: flaggerv1.TargetReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
			Service: flaggerv1.CanaryService{Port: 9898, Hosts: []string{"www.example.com"},
				GatewayRefs: []gatewayv1.ParentReference{{Name: "gateway", Namespace: ptr.To[gatewayv1.Namespace]("istio-ingress")}}},
			Analysis: &flaggerv1.CanaryAnalysis{Interval: "1m", Threshold: 5, StepWeight: 10, MaxWeight: 50},
		},
	}
}

// syncUntil syncs the canary until its cached phase is want, letting the
// informers catch up between syncs.
func (f *fixture) syncUntil(t *testing.T, want flaggerv1.CanaryPhase, between func()) {
	t.Helper()
	must.Eventually(t, 10*time.Second, 20*time.Millisecond, func() (bool, error) {
		f.clock.Step(time.Minute) // the analysis interval: every sync is due
		require.NoError(t, f.ctrl.sync(context.Background(), f.key))
		if between != nil {
			between()
		}
		cd, err := f.ctrl.canaries.Canaries("test").Get("podinfo")
		if err != nil {
			return false, err
		}
		return cd.Status.Phase == want, nil
	}, "phase %s", want)
}

// markPrimaryReady plays the Deployment controller for the primary.
func (f *fixture) markPrimaryReady(t *testing.T) {
	primary, err := f.kube.AppsV1().Deployments("test").Get(context.Background(), "podinfo-primary", metav1.GetOptions{})
	if err != nil {
		return
	}
	if primary.Status.AvailableReplicas == *primary.Spec.Replicas {
		return
	}
	primary.Status = readyStatus(*primary.Spec.Replicas)
	_, err = f.kube.AppsV1().Deployments("test").UpdateStatus(context.Background(), primary, metav1.UpdateOptions{})
	require.NoError(t, err)
}

func TestSyncInitializesCanary(t *testing.T) {
	f := newFixture(t)
	f.syncUntil(t, flaggerv1.CanaryPhaseInitialized, func() { f.markPrimaryReady(t) })
	ctx := context.Background()

	_, err := f.kube.AppsV1().Deployments("test").Get(ctx, "podinfo-primary", metav1.GetOptions{})
	assert.NoError(t, err, "the primary exists")
	for _, svc := range []string{"podinfo", "podinfo-primary", "podinfo-canary"} {
		_, err := f.kube.CoreV1().Services("test").Get(ctx, svc, metav1.GetOptions{})
		assert.NoError(t, err, svc)
	}
	route, err := f.gateway.GatewayV1().HTTPRoutes("test").Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Len(t, route.Spec.Rules[0].BackendRefs, 2)
	must.Eventually(t, 5*time.Second, 10*time.Millisecond, func() (bool, error) {
		d, err := f.ctrl.cfg.KubeInformers.Apps().V1().Deployments().Lister().Deployments("test").Get("podinfo")
		return err == nil && *d.Spec.Replicas == 0, err
	}, "the target is scaled to zero")
}

// TestIdleSyncMakesNoAPIRequests is the steady state of a fleet: a sync of
// an initialised canary with nothing to do reads only from listers and
// writes nothing.
func TestIdleSyncMakesNoAPIRequests(t *testing.T) {
	f := newFixture(t)
	f.syncUntil(t, flaggerv1.CanaryPhaseInitialized, func() { f.markPrimaryReady(t) })
	// Let the informers see our last writes.
	must.Eventually(t, 5*time.Second, 10*time.Millisecond, func() (bool, error) {
		d, err := f.ctrl.cfg.KubeInformers.Apps().V1().Deployments().Lister().Deployments("test").Get("podinfo")
		return err == nil && *d.Spec.Replicas == 0, err
	})
	require.NoError(t, f.ctrl.sync(context.Background(), f.key)) // settles anything still pending
	time.Sleep(100 * time.Millisecond)
	f.kube.ClearActions()
	f.flagger.ClearActions()
	f.gateway.ClearActions()

	for range 3 {
		f.clock.Step(time.Minute)
		require.NoError(t, f.ctrl.sync(context.Background(), f.key))
	}
	assert.Empty(t, f.kube.Actions(), "Kubernetes API requests")
	assert.Empty(t, f.flagger.Actions(), "Canary API requests")
	assert.Empty(t, f.gateway.Actions(), "Gateway API requests")
}

func TestSyncOfDeletedCanaryIsQuiet(t *testing.T) {
	f := newFixture(t)
	require.NoError(t, f.flagger.FlaggerV1beta1().Canaries("test").Delete(context.Background(), "podinfo", metav1.DeleteOptions{}))
	must.Eventually(t, 5*time.Second, 10*time.Millisecond, func() (bool, error) {
		_, err := f.ctrl.canaries.Canaries("test").Get("podinfo")
		return err != nil, nil
	})
	f.kube.ClearActions()
	assert.NoError(t, f.ctrl.sync(context.Background(), f.key))
	assert.Empty(t, f.kube.Actions())
}

func TestUnsupportedProviderIsPermanent(t *testing.T) {
	f := newFixture(t)
	cd := testCanary()
	cd.Spec.Provider = "istio"
	_, err := f.flagger.FlaggerV1beta1().Canaries("test").Update(context.Background(), cd, metav1.UpdateOptions{})
	require.NoError(t, err)
	must.Eventually(t, 5*time.Second, 10*time.Millisecond, func() (bool, error) {
		c, err := f.ctrl.canaries.Canaries("test").Get("podinfo")
		return err == nil && c.Spec.Provider == "istio", err
	})
	err = f.ctrl.sync(context.Background(), f.key)
	require.Error(t, err)
	assert.True(t, syncerr.IsPermanent(err))
	assert.Contains(t, err.Error(), `spec.provider "istio"`)
	events := f.ctrl.cfg.Recorder.(*record.FakeRecorder).Events
	assert.Contains(t, <-events, `spec.provider "istio" is not supported`)
}

// An unsupported target kind is said by the workload, once: the key is
// forgotten rather than retried, and the event names the field, not a Go type.
func TestUnsupportedTargetKindIsReportedOnce(t *testing.T) {
	f := newFixture(t)
	cd := testCanary()
	cd.Spec.TargetRef.Kind = "Service"
	_, err := f.flagger.FlaggerV1beta1().Canaries("test").Update(context.Background(), cd, metav1.UpdateOptions{})
	require.NoError(t, err)
	must.Eventually(t, 5*time.Second, 10*time.Millisecond, func() (bool, error) {
		c, err := f.ctrl.canaries.Canaries("test").Get("podinfo")
		return err == nil && c.Spec.TargetRef.Kind == "Service", err
	})
	err = f.ctrl.sync(context.Background(), f.key)
	require.True(t, syncerr.IsPermanent(err), "got %v", err)
	f.ctrl.handleErr(f.key, err)
	assert.Zero(t, f.ctrl.queue.NumRequeues(f.key), "not retried")
	event := <-f.ctrl.cfg.Recorder.(*record.FakeRecorder).Events
	assert.Contains(t, event, "Warning Synced spec.targetRef.kind: unsupported targetRef kind: Service is not supported by Serin, only Deployment and DaemonSet")
	assert.NotRegexp(t, `[A-Z][a-z]+[A-Z]\w*:`, strings.TrimPrefix(event, "Warning Synced "), "no Go type names")
	for _, action := range f.kube.Actions() {
		assert.Contains(t, []string{"list", "watch"}, action.GetVerb(), "nothing written")
	}
}

func TestMissingGatewayRefsIsReportedOnTheCanary(t *testing.T) {
	f := newFixture(t)
	cd := testCanary()
	cd.Spec.Service.GatewayRefs = nil
	cd.Generation = 2
	_, err := f.flagger.FlaggerV1beta1().Canaries("test").Update(context.Background(), cd, metav1.UpdateOptions{})
	require.NoError(t, err)
	must.Eventually(t, 5*time.Second, 10*time.Millisecond, func() (bool, error) {
		c, err := f.ctrl.canaries.Canaries("test").Get("podinfo")
		return err == nil && c.Spec.Service.GatewayRefs == nil, err
	})
	var last error
	must.Eventually(t, 10*time.Second, 20*time.Millisecond, func() (bool, error) {
		f.clock.Step(time.Minute)
		last = f.ctrl.sync(context.Background(), f.key)
		f.markPrimaryReady(t)
		return syncerr.IsPermanent(last), nil
	}, "a permanent error")
	assert.Contains(t, last.Error(), "spec.service.gatewayRefs")
	stored, err := f.flagger.FlaggerV1beta1().Canaries("test").Get(context.Background(), "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	require.Len(t, stored.Status.Conditions, 1)
	assert.Equal(t, "InvalidSpec", stored.Status.Conditions[0].Reason)
	assert.Equal(t, corev1.ConditionFalse, stored.Status.Conditions[0].Status)
	_, err = f.gateway.GatewayV1().HTTPRoutes("test").Get(context.Background(), "podinfo", metav1.GetOptions{})
	assert.Error(t, err, "no route was written")
}

func TestCollectorsExposeQueueAndSyncMetrics(t *testing.T) {
	f := newFixture(t)
	f.syncUntil(t, flaggerv1.CanaryPhaseInitialized, func() { f.markPrimaryReady(t) })
	f.ctrl.queue.Add(f.key)
	registry := prometheus.NewRegistry()
	registry.MustRegister(f.ctrl.Collectors()...)
	families, err := registry.Gather()
	require.NoError(t, err)
	var names []string
	for _, mf := range families {
		names = append(names, mf.GetName())
	}
	assert.Subset(t, names, []string{"workqueue_depth", "workqueue_adds_total", "serin_analysis_lateness_seconds"})
}

// TestHeldStepRunsWhenTheCanaryIsReady checks that a step held because the
// canary was not ready runs as soon as its Deployment is, not an interval
// later, and that nothing else runs a step early.
func TestHeldStepRunsWhenTheCanaryIsReady(t *testing.T) {
	f := newFixture(t)
	f.syncUntil(t, flaggerv1.CanaryPhaseInitialized, func() { f.markPrimaryReady(t) })
	ctx := context.Background()
	d, err := f.kube.AppsV1().Deployments("test").Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	d.Spec.Template.Spec.Containers[0].Image = "podinfo:6.0.1"
	d, err = f.kube.AppsV1().Deployments("test").Update(ctx, d, metav1.UpdateOptions{})
	require.NoError(t, err)
	d.Status = appsv1.DeploymentStatus{} // scaled to zero, no pods
	_, err = f.kube.AppsV1().Deployments("test").UpdateStatus(ctx, d, metav1.UpdateOptions{})
	require.NoError(t, err)
	f.syncUntil(t, flaggerv1.CanaryPhaseProgressing, nil)

	// The canary's pods are not up: the due step is held on them.
	must.Eventually(t, 10*time.Second, 20*time.Millisecond, func() (bool, error) {
		f.clock.Step(time.Minute)
		require.NoError(t, f.ctrl.sync(ctx, f.key))
		return f.ctrl.schedule.awaiting(f.key) == analysis.TargetWorkload, nil
	}, "a step held on the canary")
	assert.True(t, f.ctrl.urgent(f.key), "a held step goes ahead of idle canaries in the queue")
	time.Sleep(100 * time.Millisecond) // the informers catch up with the step's writes
	f.flagger.ClearActions()
	f.gateway.ClearActions()

	// An event that does not make the canary ready runs nothing.
	require.NoError(t, f.ctrl.sync(ctx, f.key))
	assert.Empty(t, f.flagger.Actions(), "a step ran before the canary was ready")

	// The canary's rollout finishes: the held step runs without waiting
	// for the interval (the clock does not move from here on).
	d, err = f.kube.AppsV1().Deployments("test").Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	d.Status = readyStatus(*d.Spec.Replicas)
	_, err = f.kube.AppsV1().Deployments("test").UpdateStatus(ctx, d, metav1.UpdateOptions{})
	require.NoError(t, err)
	must.Eventually(t, 10*time.Second, 20*time.Millisecond, func() (bool, error) {
		require.NoError(t, f.ctrl.sync(ctx, f.key))
		cd, err := f.ctrl.canaries.Canaries("test").Get("podinfo")
		return err == nil && cd.Status.CanaryWeight == 10, err
	}, "the held step advanced the canary to 10%%")
	assert.Equal(t, analysis.NoWorkload, f.ctrl.schedule.awaiting(f.key))
	assert.False(t, f.ctrl.urgent(f.key), "between steps the canary is not urgent")

	// The next step keeps its interval.
	f.flagger.ClearActions()
	f.gateway.ClearActions()
	for range 3 {
		require.NoError(t, f.ctrl.sync(ctx, f.key))
	}
	assert.Empty(t, f.gateway.Actions(), "the route moved again before the interval")
	cd, err := f.ctrl.canaries.Canaries("test").Get("podinfo")
	require.NoError(t, err)
	assert.Equal(t, 10, cd.Status.CanaryWeight)
}

// TestNewRevisionIsUrgent checks that a new pod template on the target puts
// the canary ahead in the queue until a sync has looked at it, and that the
// target's status updates do not.
func TestNewRevisionIsUrgent(t *testing.T) {
	f := newFixture(t)
	f.syncUntil(t, flaggerv1.CanaryPhaseInitialized, func() { f.markPrimaryReady(t) })
	ctx := context.Background()
	deployments := f.kube.AppsV1().Deployments("test")
	cached := func(check func(*appsv1.Deployment) bool) func() (bool, error) {
		return func() (bool, error) {
			d, err := f.ctrl.cfg.KubeInformers.Apps().V1().Deployments().Lister().Deployments("test").Get("podinfo")
			return err == nil && check(d), err
		}
	}
	assert.False(t, f.ctrl.urgent(f.key), "an initialised canary is idle")

	d, err := deployments.Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	d.Status.ObservedGeneration = 7
	_, err = deployments.UpdateStatus(ctx, d, metav1.UpdateOptions{})
	require.NoError(t, err)
	must.Eventually(t, 10*time.Second, 10*time.Millisecond,
		cached(func(d *appsv1.Deployment) bool { return d.Status.ObservedGeneration == 7 }), "the status update")
	assert.False(t, f.ctrl.urgent(f.key), "a status update of the target is not urgent")

	d, err = deployments.Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	d.Spec.Template.Spec.Containers[0].Image = "podinfo:6.0.1"
	d.Generation++ // the fake clientset does not, the API server does
	_, err = deployments.Update(ctx, d, metav1.UpdateOptions{})
	require.NoError(t, err)
	must.Eventually(t, 10*time.Second, 10*time.Millisecond,
		func() (bool, error) { return f.ctrl.urgent(f.key), nil }, "the new revision makes the canary urgent")

	require.NoError(t, f.ctrl.sync(ctx, f.key))
	assert.False(t, f.ctrl.urgent(f.key), "the sync has seen the new revision")
	f.syncUntil(t, flaggerv1.CanaryPhaseProgressing, nil)
}
