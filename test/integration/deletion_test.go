package integration

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayclient "sigs.k8s.io/gateway-api/pkg/client/clientset/versioned"

	"github.com/serin-dev/serin/pkg/analysis"
	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	clientset "github.com/serin-dev/serin/pkg/client/clientset/versioned"
	"github.com/serin-dev/serin/pkg/operator"
	"github.com/serin-dev/serin/test/lib/cluster"
	"github.com/serin-dev/serin/test/lib/must"
)

// gcCluster is a control plane with kube-controller-manager, whose garbage
// collector and namespace controller these tests need, and KWOK nodes on
// which Deployments really roll out.
type gcCluster struct {
	cfg     *rest.Config
	kube    kubernetes.Interface
	flagger clientset.Interface
	gateway gatewayclient.Interface
}

// TestDeletionNeedsNoOperator deletes, on a cluster with a garbage
// collector and a namespace controller, a Canary without revertOnDeletion
// and then, with the operator stopped, a namespace of canaries (issue 12,
// item 10). Serin puts no finalizer on a canary without revertOnDeletion,
// and removes the one an older Serin put there, so nothing waits for the
// operator: the namespace goes at once. What Serin created for a canary is
// owned by the target Deployment too, so the garbage collector leaves the
// primary, the Services and the HTTPRoute of a deleted canary serving, and
// removes them with the target.
func TestDeletionNeedsNoOperator(t *testing.T) {
	c := startGCCluster(t)
	ctx := context.Background()
	const kept, gone = "handed-over", "deleted-namespace"
	stopOperator := c.runOperator(t)
	targets := map[string]types.UID{}
	for _, ns := range []string{kept, gone} {
		_, err := c.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		require.NoError(t, err)
		d, cd := kwokPodinfo(ns)
		if ns == gone {
			// As an older Serin left it: the finalizer on every canary.
			cd.Finalizers = []string{analysis.Finalizer}
		}
		d, err = c.kube.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
		require.NoError(t, err)
		targets[ns] = d.UID
		_, err = c.flagger.FlaggerV1beta1().Canaries(ns).Create(ctx, cd, metav1.CreateOptions{})
		require.NoError(t, err)
	}
	for _, ns := range []string{kept, gone} {
		c.mustBeInitializedWithoutFinalizer(t, ns)
		cd, err := c.flagger.FlaggerV1beta1().Canaries(ns).Get(ctx, "podinfo", metav1.GetOptions{})
		require.NoError(t, err)
		controller := metav1.OwnerReference{APIVersion: "flagger.app/v1beta1", Kind: "Canary", Name: "podinfo", UID: cd.UID,
			Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}
		target := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo", UID: targets[ns]}
		for name, refs := range c.owners(t, ns) {
			assert.Equal(t, []metav1.OwnerReference{controller, target}, refs, "%s in %s", name, ns)
		}
	}

	require.NoError(t, c.flagger.FlaggerV1beta1().Canaries(kept).Delete(ctx, "podinfo", metav1.DeleteOptions{}))
	mustBeGone(t, 10*time.Second, func() error {
		_, err := c.flagger.FlaggerV1beta1().Canaries(kept).Get(ctx, "podinfo", metav1.GetOptions{})
		return err
	}, "the canary deleted at once")
	target := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo", UID: targets[kept]}
	must.Eventually(t, time.Minute, 200*time.Millisecond, func() (bool, error) {
		for name, refs := range c.owners(t, kept) {
			if len(refs) != 1 || refs[0] != target {
				return false, fmt.Errorf("%s owned by %v", name, refs)
			}
		}
		return true, nil
	}, "the garbage collector leaves the canary's objects to the target")
	c.mustServeFromThePrimary(t, kept)

	stopOperator()
	require.NoError(t, c.kube.CoreV1().Namespaces().Delete(ctx, gone, metav1.DeleteOptions{}))
	mustBeGone(t, 2*time.Minute, func() error {
		_, err := c.kube.CoreV1().Namespaces().Get(ctx, gone, metav1.GetOptions{})
		return err
	}, "namespace %s deleted while the operator is not running", gone)

	require.NoError(t, c.kube.AppsV1().Deployments(kept).Delete(ctx, "podinfo", metav1.DeleteOptions{}))
	must.Eventually(t, time.Minute, 200*time.Millisecond, func() (bool, error) {
		left := c.owners(t, kept)
		return len(left) == 0, fmt.Errorf("left: %v", left)
	}, "the garbage collector removes them with the target")
}

func startGCCluster(t *testing.T) *gcCluster {
	t.Helper()
	cl := cluster.StartForTest(t, cluster.Options{
		Full:       true,
		FakeNodes:  1,
		CRDPaths:   []string{filepath.Join("..", "..", "artifacts", "flagger", "crd.yaml")},
		GatewayAPI: true,
	})
	return &gcCluster{
		cfg:     cl.Config,
		kube:    kubernetes.NewForConfigOrDie(cl.Config),
		flagger: clientset.NewForConfigOrDie(cl.Config),
		gateway: gatewayclient.NewForConfigOrDie(cl.Config),
	}
}

// runOperator runs an operator on every namespace; the function it returns
// stops it and waits for it, and runs at the end of the test if the test
// has not called it.
func (c *gcCluster) runOperator(t *testing.T) func() {
	t.Helper()
	logger := logrus.New()
	logger.SetOutput(io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	op, err := operator.New(ctx, operator.Config{
		REST:          rest.CopyConfig(c.cfg),
		Logger:        logrus.NewEntry(logger),
		Workers:       4,
		SchedulerTick: 100 * time.Millisecond,
	})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- op.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("operator: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// kwokPodinfo returns the tutorial's podinfo, scheduled on the KWOK nodes,
// and its Canary, without revertOnDeletion.
func kwokPodinfo(namespace string) (*appsv1.Deployment, *flaggerv1.Canary) {
	labels := map[string]string{"app": "podinfo"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: namespace},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					NodeSelector: map[string]string{cluster.FakeNodeLabel: "kwok"},
					Containers: []corev1.Container{{Name: "podinfod", Image: "ghcr.io/stefanprodan/podinfo:6.0.0",
						Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 9898}}}},
				},
			},
		},
	}
	cd := &flaggerv1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: namespace},
		Spec: flaggerv1.CanarySpec{
			TargetRef: flaggerv1.TargetReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
			Service: flaggerv1.CanaryService{Port: 9898, Hosts: []string{"podinfo.example.com"},
				GatewayRefs: []gatewayv1.ParentReference{{Name: "gateway", Namespace: ptr.To[gatewayv1.Namespace]("istio-ingress")}}},
			Analysis: &flaggerv1.CanaryAnalysis{Interval: "10s", Threshold: 5, StepWeight: 10, MaxWeight: 50},
		},
	}
	return d, cd
}

// mustBeInitializedWithoutFinalizer waits until the canary podinfo of
// namespace is Initialized and has no finalizer.
func (c *gcCluster) mustBeInitializedWithoutFinalizer(t *testing.T, namespace string) {
	t.Helper()
	must.Eventually(t, 2*time.Minute, 200*time.Millisecond, func() (bool, error) {
		cd, err := c.flagger.FlaggerV1beta1().Canaries(namespace).Get(context.Background(), "podinfo", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if cd.Status.Phase != flaggerv1.CanaryPhaseInitialized || len(cd.Finalizers) > 0 {
			return false, fmt.Errorf("phase %q, finalizers %v", cd.Status.Phase, cd.Finalizers)
		}
		return true, nil
	}, "canary podinfo.%s initialised, without finalizer", namespace)
}

// owners returns the owner references of the objects Serin creates for
// the canary podinfo of namespace (primary Deployment, the three Services,
// the HTTPRoute), by kind and name, for those that exist.
func (c *gcCluster) owners(t *testing.T, namespace string) map[string][]metav1.OwnerReference {
	t.Helper()
	ctx := context.Background()
	out := map[string][]metav1.OwnerReference{}
	keep := func(name string, obj metav1.Object, err error) {
		if apierrors.IsNotFound(err) {
			return
		}
		require.NoError(t, err, name)
		out[name] = obj.GetOwnerReferences()
	}
	d, err := c.kube.AppsV1().Deployments(namespace).Get(ctx, "podinfo-primary", metav1.GetOptions{})
	keep("deployment/podinfo-primary", d, err)
	for _, name := range []string{"podinfo", "podinfo-primary", "podinfo-canary"} {
		svc, err := c.kube.CoreV1().Services(namespace).Get(ctx, name, metav1.GetOptions{})
		keep("service/"+name, svc, err)
	}
	route, err := c.gateway.GatewayV1().HTTPRoutes(namespace).Get(ctx, "podinfo", metav1.GetOptions{})
	keep("httproute/podinfo", route, err)
	return out
}

// mustServeFromThePrimary checks that the primary of namespace is
// available, that the apex Service selects its pods and that the route
// sends all the traffic to it.
func (c *gcCluster) mustServeFromThePrimary(t *testing.T, namespace string) {
	t.Helper()
	ctx := context.Background()
	primary, err := c.kube.AppsV1().Deployments(namespace).Get(ctx, "podinfo-primary", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Positive(t, primary.Status.AvailableReplicas, "the primary serves")
	target, err := c.kube.AppsV1().Deployments(namespace).Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Zero(t, ptr.Deref(target.Spec.Replicas, 1), "the target is still at zero: the primary is all there is")
	apex, err := c.kube.CoreV1().Services(namespace).Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"app": "podinfo-primary"}, apex.Spec.Selector)
	route, err := c.gateway.GatewayV1().HTTPRoutes(namespace).Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	weights := map[string]int32{}
	for _, b := range route.Spec.Rules[0].BackendRefs {
		weights[string(b.Name)] = ptr.Deref(b.Weight, 1)
	}
	assert.Equal(t, map[string]int32{"podinfo-primary": 100, "podinfo-canary": 0}, weights)
}
