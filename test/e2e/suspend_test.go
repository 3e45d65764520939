package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/serin-dev/serin/pkg/analysis"
	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// TestSuspend suspends a release in flight: the traffic and the status
// freeze for as long as spec.suspend is set, with one event (and the
// Suspended condition) however long it lasts and whatever else is edited
// meanwhile; lifting it records one event and the release goes on.
func TestSuspend(t *testing.T) {
	t.Parallel()
	const ns = "test-suspend"
	suspendedMsg := "skipping canary run as object is suspended"
	resumedMsg := "resuming canary run as object is no longer suspended"
	deploy(t, seed(t, "podinfo-canary.yaml", ns, set(int64(30), "spec", "analysis", "maxWeight")))
	routes := recordRoutes(t, ns, "v1")
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.1")
	waitCanary(t, ns, 2*time.Minute, "weight 10", func(cd *flaggerv1.Canary) error {
		if cd.Status.CanaryWeight < 10 {
			return fmt.Errorf("not at 10%% yet")
		}
		return nil
	})

	patchCanary(t, ns, `{"spec":{"suspend":true}}`)
	waitEvent(t, ns, time.Minute, suspendedMsg)
	frozen := canary(t, ns)
	shape := routes.current()
	require.NotEmpty(t, frozen.Status.Conditions)
	suspended := frozen.Status.Conditions[len(frozen.Status.Conditions)-1]
	assert.Equal(t, analysis.SuspendedType, suspended.Type)
	assert.Equal(t, corev1.ConditionTrue, suspended.Status)
	assert.Equal(t, flaggerv1.PromotedType, frozen.Status.Conditions[0].Type, "Promoted stays first")

	time.Sleep(15 * time.Second)
	patchCanary(t, ns, `{"spec":{"analysis":{"threshold":6}}}`) // an edit while suspended
	time.Sleep(20 * time.Second)
	cd := canary(t, ns)
	assert.Equal(t, flaggerv1.CanaryPhaseProgressing, cd.Status.Phase)
	assert.Equal(t, frozen.Status.CanaryWeight, cd.Status.CanaryWeight, "the weight is frozen")
	assert.Equal(t, shape, routes.current(), "the route is frozen")
	assert.Equal(t, 1, eventCount(t, ns, suspendedMsg), "one event per suspension, not one per interval")

	patchCanary(t, ns, `{"spec":{"suspend":false}}`)
	waitPhase(t, ns, flaggerv1.CanaryPhaseSucceeded, 2*time.Minute)
	assert.Equal(t, 1, eventCount(t, ns, suspendedMsg))
	assert.Equal(t, 1, eventCount(t, ns, resumedMsg))
	requireEvents(t, ns, "Advance podinfo."+ns+" canary weight 10", suspendedMsg, resumedMsg,
		"Advance podinfo."+ns+" canary weight 30", "Promotion completed! Scaling down podinfo."+ns)
	routes.requireShapes(ladder(10, 20, 30)...)
	for _, c := range canary(t, ns).Status.Conditions {
		assert.NotEqual(t, analysis.SuspendedType, c.Type, "the condition goes on resume")
	}
}

// patchCanary merge-patches the scenario's Canary.
func patchCanary(t *testing.T, namespace, patch string) {
	t.Helper()
	_, err := env.flagger.FlaggerV1beta1().Canaries(namespace).Patch(t.Context(), "podinfo", types.MergePatchType,
		[]byte(patch), metav1.PatchOptions{})
	require.NoError(t, err)
}
