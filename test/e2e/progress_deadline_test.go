package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// TestProgressDeadlineCanary releases a revision whose pods can never run
// (a nodeSelector no node matches keeps them Pending): once the canary has
// lacked its available replicas for progressDeadlineSeconds (20s here) the
// release is rolled back without any traffic having moved.
func TestProgressDeadlineCanary(t *testing.T) {
	t.Parallel()
	const ns = "test-deadline-canary"
	deploy(t, seed(t, "podinfo-canary.yaml", ns, set(int64(20), "spec", "progressDeadlineSeconds")))
	routes := recordRoutes(t, ns, "v1")
	patch := `{"spec":{"template":{"spec":{"nodeSelector":{"serin.dev/no-such-node":"true"},` +
		`"containers":[{"name":"podinfod","image":"ghcr.io/stefanprodan/podinfo:6.0.1"}]}}}}`
	_, err := env.kube.AppsV1().Deployments(ns).Patch(t.Context(), "podinfo",
		"application/strategic-merge-patch+json", []byte(patch), metav1.PatchOptions{})
	require.NoError(t, err)

	waitPhase(t, ns, flaggerv1.CanaryPhaseFailed, 2*time.Minute)
	requireEvents(t, ns,
		"New revision detected! Scaling up podinfo."+ns,
		"canary deployment podinfo."+ns+" not ready: waiting for rollout to finish",
		"Rolling back podinfo."+ns+" progress deadline exceeded",
		"Canary failed! Scaling down podinfo."+ns,
	)
	for _, m := range eventMessages(t, ns) {
		assert.NotContains(t, m, "Advance", "no traffic moved")
	}
	routes.requireShapes(split(100, 0))
	assert.Equal(t, int32(0), replicas(t, ns, "podinfo"))
	assert.Equal(t, "ghcr.io/stefanprodan/podinfo:6.0.0", targetImage(t, ns, "podinfo-primary"))
}
