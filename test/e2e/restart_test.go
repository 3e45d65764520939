package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/must"
)

// TestNewRevisionRestartsAnalysis releases a second image while the first
// is being analysed: the analysis starts over from weight 0 and promotes
// the newest image.
func TestNewRevisionRestartsAnalysis(t *testing.T) {
	t.Parallel()
	const ns = "test-restart"
	bootstrap(t, ns)
	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.1")
	waitProgressing(t, ns, 20, "the first analysis to reach 20%")

	setImage(t, ns, "ghcr.io/stefanprodan/podinfo:6.0.3")
	must.Eventually(t, time.Minute, 250*time.Millisecond, func() (bool, error) {
		ok, _ := hasEvents(eventMessages(t, ns), "New revision detected! Restarting analysis for podinfo."+ns)
		return ok, nil
	}, "the analysis to restart")
	waitPhase(t, ns, flaggerv1.CanaryPhaseSucceeded, 4*time.Minute)

	primary, err := env.kube.AppsV1().Deployments(ns).Get(t.Context(), "podinfo-primary", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "ghcr.io/stefanprodan/podinfo:6.0.3", primary.Spec.Template.Spec.Containers[0].Image)
}
