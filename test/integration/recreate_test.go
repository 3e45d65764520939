package integration

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/must"
)

var httpRoutes = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}

// TestNamespaceDeletedAndRecreated deletes a namespace with five initialised
// canaries while Serin runs, then applies the same objects again: every
// re-created canary is initialised (issue 12, item 11). The answers to the
// operator's canary writes are slowed down, so that the deletion that a
// finalizer removal causes reaches the operator before the answer to it, as
// it sometimes does on any cluster: the write's expectation, keyed by name,
// then held the re-created canary uninitialised. Meanwhile, the creates the
// terminating namespace refuses are not retried.
//
// The test plays the namespace controller (there is no
// kube-controller-manager here): the namespace is marked terminating, the
// Services in it are deleted, then the Canaries, and once Serin has let
// them go (restoring their targets), the Deployments and HTTPRoutes, and
// the namespace.
func TestNamespaceDeletedAndRecreated(t *testing.T) {
	const ns, n = "recreated", 5
	ctx := context.Background()
	spy := &apiSpy{namespace: ns, canaryWriteDelay: 300 * time.Millisecond}
	startOperator(t, ns, spy.wrap)
	playDeployments(t, ns)
	ensureNamespace(t, ns)
	createPodinfos(t, ns, n)
	mustReachPhase(t, ns, n, flaggerv1.CanaryPhaseInitialized, time.Minute)

	require.NoError(t, kube.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}))
	services, err := kube.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	for _, svc := range services.Items {
		require.NoError(t, kube.CoreV1().Services(ns).Delete(ctx, svc.Name, metav1.DeleteOptions{}))
	}
	// Woken by their Services' deletion, the idle canaries try to create
	// them again, and are refused: once each, not again and again.
	mustSettle(t, &spy.refusedCreates, time.Second)
	refused := spy.refusedCreates.Load()
	require.Positive(t, refused, "the canaries were woken and refused")
	time.Sleep(3 * time.Second)
	assert.Equal(t, refused, spy.refusedCreates.Load(), "refused creates retried in a terminating namespace")

	require.NoError(t, flagger.FlaggerV1beta1().Canaries(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}))
	must.Eventually(t, time.Minute, 100*time.Millisecond, func() (bool, error) {
		list, err := flagger.FlaggerV1beta1().Canaries(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, cd := range list.Items {
			return false, fmt.Errorf("%s: phase %q, finalizers %v", cd.Name, cd.Status.Phase, cd.Finalizers)
		}
		return true, nil
	}, "the operator let the canaries go")
	require.NoError(t, kube.AppsV1().Deployments(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}))
	require.NoError(t, dyn.Resource(httpRoutes).Namespace(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}))
	finalizeNamespace(t, ns)

	ensureNamespace(t, ns)
	createPodinfos(t, ns, n)
	mustReachPhase(t, ns, n, flaggerv1.CanaryPhaseInitialized, 30*time.Second)
}

// finalizeNamespace ends a terminating namespace whose content is gone, as
// the namespace controller does: it removes the namespace's finalizer, then
// deletes it again.
func finalizeNamespace(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	namespace, err := kube.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	require.NoError(t, err)
	namespace.Spec.Finalizers = nil
	_, err = kube.CoreV1().Namespaces().Finalize(ctx, namespace, metav1.UpdateOptions{})
	require.NoError(t, err)
	err = kube.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
	if err != nil {
		require.True(t, apierrors.IsNotFound(err), "delete namespace: %v", err)
	}
	mustBeGone(t, 30*time.Second, func() error {
		_, err := kube.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		return err
	}, "namespace %s gone", name)
}

// mustSettle waits until counter has not changed for quiet.
func mustSettle(t *testing.T, counter *atomic.Int64, quiet time.Duration) {
	t.Helper()
	last, since := counter.Load(), time.Now()
	must.Eventually(t, time.Minute, 50*time.Millisecond, func() (bool, error) {
		if v := counter.Load(); v != last {
			last, since = v, time.Now()
		}
		return time.Since(since) >= quiet, nil
	}, "the count settled")
}
