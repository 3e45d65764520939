package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/operator"
	"github.com/serin-dev/serin/test/lib/must"
)

// The tests of this file's siblings run a Serin operator in-process against
// the package's API server. There is no kube-controller-manager, so the
// tests play its part where they need it: playDeployments reports every
// Deployment of a namespace rolled out, and a namespace deletion is carried
// out by the test (see deleteNamespace).

// startOperator runs an operator limited to namespace until the test ends.
// wrap, when not nil, wraps the transport of every request the operator
// makes.
func startOperator(t *testing.T, namespace string, wrap func(http.RoundTripper) http.RoundTripper) {
	t.Helper()
	rc := rest.CopyConfig(cfg)
	rc.WrapTransport = wrap
	logger := logrus.New()
	logger.SetOutput(io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	op, err := operator.New(ctx, operator.Config{
		REST:          rc,
		Namespace:     namespace,
		Logger:        logrus.NewEntry(logger),
		Workers:       4,
		SchedulerTick: 100 * time.Millisecond,
	})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- op.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("operator: %v", err)
		}
	})
	must.Eventually(t, 30*time.Second, 50*time.Millisecond, func() (bool, error) {
		return op.HasSynced(), nil
	}, "the operator's caches synced")
}

// playDeployments reports every Deployment of namespace as rolled out, all
// its replicas updated and available, until the test ends: the part of the
// Deployment controller and the kubelets that Serin's readiness checks read.
func playDeployments(t *testing.T, namespace string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for ctx.Err() == nil {
			list, err := kube.AppsV1().Deployments(namespace).List(ctx, metav1.ListOptions{})
			if err == nil {
				for i := range list.Items {
					markRolledOut(ctx, &list.Items[i])
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-stopped
	})
}

// markRolledOut writes a rolled-out status on d unless it has one.
func markRolledOut(ctx context.Context, d *appsv1.Deployment) {
	replicas := ptr.Deref(d.Spec.Replicas, 1)
	want := appsv1.DeploymentStatus{
		ObservedGeneration: d.Generation,
		Replicas:           replicas,
		UpdatedReplicas:    replicas,
		ReadyReplicas:      replicas,
		AvailableReplicas:  replicas,
	}
	if equality.Semantic.DeepEqual(d.Status, want) {
		return
	}
	d.Status = want
	// Conflicts and a namespace being deleted are retried by the next round.
	_, _ = kube.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{})
}

// podinfo returns a target Deployment and its Canary, in the shape of the
// tutorial's podinfo, named podinfo-<i>.
func podinfo(namespace string, i int, revertOnDeletion bool) (*appsv1.Deployment, *flaggerv1.Canary) {
	name := fmt.Sprintf("podinfo-%d", i)
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "podinfod", Image: "ghcr.io/stefanprodan/podinfo:6.0.0",
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 9898}}}}},
			},
		},
	}
	cd := &flaggerv1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: flaggerv1.CanarySpec{
			TargetRef: flaggerv1.TargetReference{APIVersion: "apps/v1", Kind: "Deployment", Name: name},
			Service: flaggerv1.CanaryService{Port: 9898, Hosts: []string{name + ".example.com"},
				GatewayRefs: []gatewayv1.ParentReference{{Name: "gateway", Namespace: ptr.To[gatewayv1.Namespace]("istio-ingress")}}},
			RevertOnDeletion: revertOnDeletion,
			Analysis:         &flaggerv1.CanaryAnalysis{Interval: "10s", Threshold: 5, StepWeight: 10, MaxWeight: 50},
		},
	}
	return d, cd
}

// createPodinfos creates n podinfo targets and canaries in namespace; all
// but the first have revertOnDeletion, which is what holds a Canary with a
// finalizer until Serin lets it go.
func createPodinfos(t *testing.T, namespace string, n int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		d, cd := podinfo(namespace, i, i > 0)
		_, err := kube.AppsV1().Deployments(namespace).Create(ctx, d, metav1.CreateOptions{})
		require.NoError(t, err)
		_, err = flagger.FlaggerV1beta1().Canaries(namespace).Create(ctx, cd, metav1.CreateOptions{})
		require.NoError(t, err)
	}
}

// mustReachPhase waits until every canary of namespace named podinfo-0 to
// podinfo-<n-1> is in phase.
func mustReachPhase(t *testing.T, namespace string, n int, phase flaggerv1.CanaryPhase, timeout time.Duration) {
	t.Helper()
	must.Eventually(t, timeout, 100*time.Millisecond, func() (bool, error) {
		for i := range n {
			name := fmt.Sprintf("podinfo-%d", i)
			cd, err := flagger.FlaggerV1beta1().Canaries(namespace).Get(context.Background(), name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			if cd.Status.Phase != phase {
				return false, fmt.Errorf("%s: phase %q, finalizers %v", name, cd.Status.Phase, cd.Finalizers)
			}
		}
		return true, nil
	}, "every canary %s", phase)
}

// mustBeGone waits until get reports NotFound.
func mustBeGone(t *testing.T, timeout time.Duration, get func() error, msgAndArgs ...any) {
	t.Helper()
	must.Eventually(t, timeout, 100*time.Millisecond, func() (bool, error) {
		err := get()
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	}, msgAndArgs...)
}
