package e2e

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/serin-dev/serin/pkg/analysis"
	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/metricsexporter"
	"github.com/serin-dev/serin/test/lib/must"
)

// request annotates the canary with a request, as kubectl serin does: a
// merge patch of the three annotations by a field manager of its own.
func request(t *testing.T, namespace, action, id, revision string) {
	t.Helper()
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{
		analysis.RequestAnnotation: action, analysis.RequestIDAnnotation: id, analysis.RequestRevisionAnnotation: revision,
	}}})
	require.NoError(t, err)
	_, err = env.flagger.FlaggerV1beta1().Canaries(namespace).Patch(t.Context(), "podinfo", types.MergePatchType, patch,
		metav1.PatchOptions{FieldManager: "kubectl-serin"})
	require.NoError(t, err)
}

// waitHandled waits until the operator has handled the request id.
func waitHandled(t *testing.T, namespace, id string) *flaggerv1.Canary {
	t.Helper()
	return waitCanary(t, namespace, time.Minute, "request "+id+" handled", func(cd *flaggerv1.Canary) error {
		if cd.Status.LastHandledRequest != id {
			return fmt.Errorf("last handled request %q", cd.Status.LastHandledRequest)
		}
		return nil
	})
}

// reapply applies the Canary as it is in Git again, as a GitOps tool does
// on every sync: server-side, with a field manager of its own and without
// the request annotations.
func reapply(t *testing.T, cd *unstructured.Unstructured) {
	t.Helper()
	data, err := json.Marshal(cd.Object)
	require.NoError(t, err)
	_, err = env.dyn.Resource(resources["Canary"]).Namespace(cd.GetNamespace()).Patch(t.Context(), cd.GetName(),
		types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: "argocd-controller", Force: new(true)})
	require.NoError(t, err)
}

// TestRequestPromoteThroughAGate opens a closed confirm-promotion gate with
// a promote request instead of the gate's webhook, and a GitOps tool
// re-applying the Canary from Git afterwards undoes nothing.
func TestRequestPromoteThroughAGate(t *testing.T) {
	t.Parallel()
	const ns = "test-request-promote"
	cd := seed(t, "podinfo-canary.yaml", ns, shortLadder(), hook("gate", flaggerv1.ConfirmPromotionHook, gatePrefix+ns))
	deploy(t, cd)
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.1")
	waitPhase(t, ns, flaggerv1.CanaryPhaseWaitingPromotion, 2*time.Minute)

	request(t, ns, analysis.RequestPromote, "promote-1", canary(t, ns).Status.LastAppliedSpec)
	waitHandled(t, ns, "promote-1")
	waitPhase(t, ns, flaggerv1.CanaryPhaseSucceeded, 2*time.Minute)
	requireEvents(t, ns,
		"Halt podinfo."+ns+" advancement waiting for promotion approval gate",
		"Request promote (promote-1): the waiting confirm gates open once",
		"Copying podinfo."+ns+" template spec to podinfo-primary."+ns,
	)
	assert.Equal(t, "ghcr.io/stefanprodan/podinfo:6.0.1", targetImage(t, ns, "podinfo-primary"))

	reapply(t, cd)
	got := canary(t, ns)
	assert.Equal(t, "promote-1", got.Annotations[analysis.RequestIDAnnotation], "the GitOps tool does not own the request")
	time.Sleep(3 * time.Second) // a few syncs of the re-applied canary
	got = canary(t, ns)
	assert.Equal(t, flaggerv1.CanaryPhaseSucceeded, got.Status.Phase)
	assert.Equal(t, "promote-1", got.Status.LastHandledRequest)
	assert.Equal(t, 1, eventCount(t, ns, "Request promote (promote-1)"), "handled once")
}

// TestRequestAbortAndRetry aborts a healthy run at its first step, then runs
// the same revision again with a retry request, without a spec change; a
// request for another revision is ignored.
func TestRequestAbortAndRetry(t *testing.T) {
	t.Parallel()
	const ns = "test-request-abort"
	deploy(t, seed(t, "podinfo-canary.yaml", ns, shortLadder(), hook("gate", flaggerv1.ConfirmPromotionHook, gatePrefix+ns)))
	env.exporter.Set(ns, "podinfo", metricsexporter.Traffic{RPS: 20, Latency: 20 * time.Millisecond})
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.1")
	waitProgressing(t, ns, 50, "the first step")

	revision := canary(t, ns).Status.LastAppliedSpec
	request(t, ns, analysis.RequestAbort, "abort-1", "not-"+revision)
	waitHandled(t, ns, "abort-1")
	assert.Contains(t, []flaggerv1.CanaryPhase{flaggerv1.CanaryPhaseProgressing, flaggerv1.CanaryPhaseWaitingPromotion},
		canary(t, ns).Status.Phase, "a request for another revision is ignored")

	request(t, ns, analysis.RequestAbort, "abort-2", revision)
	got := waitHandled(t, ns, "abort-2")
	assert.Equal(t, flaggerv1.CanaryPhaseFailed, got.Status.Phase)
	assert.Equal(t, 0, got.Status.CanaryWeight)
	must.Eventually(t, time.Minute, 500*time.Millisecond, func() (bool, error) {
		n := replicas(t, ns, "podinfo")
		return n == 0, fmt.Errorf("target at %d replicas", n)
	}, "the target scaled to zero")
	assert.Equal(t, "ghcr.io/stefanprodan/podinfo:6.0.0", targetImage(t, ns, "podinfo-primary"), "the primary is untouched")

	request(t, ns, analysis.RequestRetry, "retry-1", revision)
	waitHandled(t, ns, "retry-1")
	env.hooks.open(gatePrefix + ns)
	waitPhase(t, ns, flaggerv1.CanaryPhaseSucceeded, 3*time.Minute)
	assert.Equal(t, "ghcr.io/stefanprodan/podinfo:6.0.1", targetImage(t, ns, "podinfo-primary"), "the retried revision is promoted")
	requireEvents(t, ns,
		"Request abort (abort-1) ignored: it is for revision not-"+revision,
		"Rolling back podinfo."+ns+": aborted by request abort-2",
		"Canary failed! Scaling down podinfo."+ns,
		"Request retry (retry-1): running podinfo."+ns+" again",
		"Promotion completed! Scaling down podinfo."+ns,
	)
}
