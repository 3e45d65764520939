package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// TestConfigMapChangeStartsAnalysis changes only the ConfigMap the target
// reads: config tracking notices it, analyses it like a new image, and
// promotes it to the primary's copy.
func TestConfigMapChangeStartsAnalysis(t *testing.T) {
	t.Parallel()
	const ns = "test-config"
	bootstrap(t, ns)
	ctx := t.Context()

	cm, err := env.kube.CoreV1().ConfigMaps(ns).Get(ctx, "podinfo-config", metav1.GetOptions{})
	require.NoError(t, err)
	cm.Data["PODINFO_UI_COLOR"] = "#ff0000"
	_, err = env.kube.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{})
	require.NoError(t, err)

	waitPhase(t, ns, flaggerv1.CanaryPhaseProgressing, time.Minute)
	waitPhase(t, ns, flaggerv1.CanaryPhaseSucceeded, 4*time.Minute)
	requireEvents(t, ns,
		"New revision detected! Scaling up podinfo."+ns,
		"Advance podinfo."+ns+" canary weight 50",
		"Promotion completed! Scaling down podinfo."+ns,
	)
	primaryConfig, err := env.kube.CoreV1().ConfigMaps(ns).Get(ctx, "podinfo-config-primary", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "#ff0000", primaryConfig.Data["PODINFO_UI_COLOR"])
}
