package integration

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/canary"
	"github.com/serin-dev/serin/pkg/owners"
	"github.com/serin-dev/serin/pkg/router"
	"github.com/serin-dev/serin/test/lib/must"
)

// TestBaselineAgainstTheAPIServer runs a judge baseline's life on the real
// API server, where what is read back carries the server's defaults: once
// created and rolled out, EnsureBaseline finds nothing to correct (no write
// at all, however often it is called), and RemoveBaseline, once the
// baseline is gone, makes no request. It is what the fake clientset of the
// unit tests, which defaults nothing, cannot show.
func TestBaselineAgainstTheAPIServer(t *testing.T) {
	const ns = "baseline"
	ctx := context.Background()
	ensureNamespace(t, ns)
	playDeployments(t, ns)

	target, cd := podinfo(ns, 0, false)
	cd.Spec.Analysis.Judge = &flaggerv1.CanaryJudge{Baseline: true}
	_, err := kube.AppsV1().Deployments(ns).Create(ctx, target, metav1.CreateOptions{})
	require.NoError(t, err)
	cd, err = flagger.FlaggerV1beta1().Canaries(ns).Create(ctx, cd, metav1.CreateOptions{})
	require.NoError(t, err)
	cd.Status.Phase = flaggerv1.CanaryPhaseProgressing
	cd.Status.LastAppliedSpec = "rev-1"

	var writes atomic.Int64
	c := rest.CopyConfig(cfg)
	c.WrapTransport = func(next http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
			if req.Method != http.MethodGet {
				writes.Add(1)
			}
			return next.RoundTrip(req)
		})
	}
	client := kubernetes.NewForConfigOrDie(c)
	factory := kubeinformers.NewSharedInformerFactoryWithOptions(client, 0, kubeinformers.WithNamespace(ns))
	services := factory.Core().V1().Services().Lister()
	workload, err := canary.NewDeployments(canary.Config{
		KubeClient:            client,
		Deployments:           factory.Apps().V1().Deployments().Lister(),
		HPAs:                  factory.Autoscaling().V2().HorizontalPodAutoscalers().Lister(),
		DisableConfigTracking: true,
	})
	require.NoError(t, err)
	baselines := workload.Baselines(services)
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	factory.Start(stop)
	factory.WaitForCacheSync(stop)

	// The primary and its Service as Serin makes them.
	_, err = workload.EnsurePrimary(ctx, cd)
	require.NoError(t, err)
	md, err := workload.GetMetadata(ctx, cd)
	require.NoError(t, err)
	require.NoError(t, router.NewKubernetesRouter(client, services).Initialize(ctx, cd, router.Target{
		SelectorLabel: md.Selector.Key, SelectorValue: md.Selector.Value, Owner: md.Owner,
	}))

	must.Eventually(t, 20*time.Second, 50*time.Millisecond, func() (bool, error) {
		err := baselines.EnsureBaseline(ctx, cd)
		var nre *canary.NotReadyError
		if err != nil && !errors.As(err, &nre) {
			return false, err
		}
		return err == nil, nil
	}, "the baseline is created and rolled out")

	dep, err := kube.AppsV1().Deployments(ns).Get(ctx, "podinfo-0-baseline", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"app": "podinfo-0-baseline"}, dep.Spec.Selector.MatchLabels)
	assert.Equal(t, "podinfo-0-baseline", dep.Spec.Template.Labels["app"])
	assert.Equal(t, []metav1.OwnerReference{owners.Canary(cd)}, dep.OwnerReferences)
	assert.Equal(t, target.Spec.Replicas, dep.Spec.Replicas)
	svc, err := kube.CoreV1().Services(ns).Get(ctx, "podinfo-0-baseline", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"app": "podinfo-0-baseline"}, svc.Spec.Selector)
	assert.Equal(t, int32(9898), svc.Spec.Ports[0].Port)
	assert.Equal(t, owners.Of(cd, md.Owner), svc.OwnerReferences, "the route's owners")

	before := writes.Load()
	for range 5 {
		require.NoError(t, baselines.EnsureBaseline(ctx, cd))
	}
	assert.Equal(t, before, writes.Load(), "an up-to-date baseline, defaults and all, costs no write")

	// Between runs the Service stays for the route; the Deployment goes.
	cd.Status.Phase = flaggerv1.CanaryPhaseSucceeded
	require.NoError(t, baselines.RemoveBaseline(ctx, cd))
	must.Eventually(t, 10*time.Second, 50*time.Millisecond, func() (bool, error) {
		_, err := factory.Apps().V1().Deployments().Lister().Deployments(ns).Get("podinfo-0-baseline")
		return apierrors.IsNotFound(err), nil
	}, "the informer sees the baseline Deployment gone")
	before = writes.Load()
	require.NoError(t, baselines.RemoveBaseline(ctx, cd))
	assert.Equal(t, before, writes.Load(), "nothing to remove, the Service up to date: no write")
	_, err = kube.CoreV1().Services(ns).Get(ctx, "podinfo-0-baseline", metav1.GetOptions{})
	require.NoError(t, err, "the route's baseline backend still resolves")

	// Turned off: the Service goes too.
	cd.Spec.Analysis.Judge = nil
	require.NoError(t, baselines.RemoveBaseline(ctx, cd))
	_, err = kube.CoreV1().Services(ns).Get(ctx, "podinfo-0-baseline", metav1.GetOptions{})
	require.True(t, apierrors.IsNotFound(err), "the baseline Service is deleted: %v", err)
}
