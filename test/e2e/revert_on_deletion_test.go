package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/analysis"
	"github.com/serin-dev/serin/test/lib/must"
)

// TestRevertOnDeletion deletes a Canary with revertOnDeletion: the
// finalizer holds it in Terminating until the target is scaled back to the
// primary's replicas and ready, Terminated hands the traffic back, and then
// the Canary goes, and with it (garbage collection) what Serin created: its
// last tick removed the target Deployment from their owners, or the target
// would have kept them.
func TestRevertOnDeletion(t *testing.T) {
	t.Parallel()
	const ns = "test-revert-on-deletion"
	deploy(t, seed(t, "podinfo-canary.yaml", ns, set(true, "spec", "revertOnDeletion")))
	ctx := t.Context()
	assert.Contains(t, canary(t, ns).Finalizers, analysis.Finalizer)
	require.Equal(t, int32(0), replicas(t, ns, "podinfo"))
	phases := recordPhases(t, ns)

	require.NoError(t, env.flagger.FlaggerV1beta1().Canaries(ns).Delete(ctx, "podinfo", metav1.DeleteOptions{}))
	must.Eventually(t, 2*time.Minute, 250*time.Millisecond, func() (bool, error) {
		_, err := env.flagger.FlaggerV1beta1().Canaries(ns).Get(ctx, "podinfo", metav1.GetOptions{})
		return apierrors.IsNotFound(err), fmt.Errorf("canary still there: %v", err)
	}, "the Canary to go")
	assert.Equal(t, []string{"Initialized", "Terminating", "Terminated", "deleted"}, phases.seen())
	requireEvents(t, ns, "Terminating canary podinfo."+ns, "Terminated canary podinfo."+ns)

	target, err := env.kube.AppsV1().Deployments(ns).Get(ctx, "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(2), *target.Spec.Replicas, "the primary's replicas")
	assert.Equal(t, int32(2), target.Status.AvailableReplicas, "restored and ready before the Canary went")
	must.Eventually(t, time.Minute, 500*time.Millisecond, func() (bool, error) {
		_, errDep := env.kube.AppsV1().Deployments(ns).Get(ctx, "podinfo-primary", metav1.GetOptions{})
		_, errRoute := env.gateway.GatewayV1().HTTPRoutes(ns).Get(ctx, "podinfo", metav1.GetOptions{})
		return apierrors.IsNotFound(errDep) && apierrors.IsNotFound(errRoute), fmt.Errorf("primary: %v, route: %v", errDep, errRoute)
	}, "garbage collection of what Serin created")
}
