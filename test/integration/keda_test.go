package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/test/lib/must"
)

// TestScaledObjectWithoutKEDA runs Serin on this package's API server, which
// does not serve KEDA's ScaledObjects (the crash harness runs the KEDA
// releases on KEDA's CRD): the operator starts, a canary whose
// autoscalerRef is a ScaledObject is refused with the Promoted condition
// and a Warning event that say why, before anything is created for it, and
// its neighbour without an autoscaler is initialised.
func TestScaledObjectWithoutKEDA(t *testing.T) {
	const namespace = "keda-missing"
	ctx := context.Background()
	ensureNamespace(t, namespace)
	playDeployments(t, namespace)
	startOperator(t, namespace, nil)

	for i := range 2 {
		d, cd := podinfo(namespace, i, false)
		if i == 0 {
			cd.Spec.AutoscalerRef = &flaggerv1.AutoscalerReference{APIVersion: "keda.sh/v1alpha1", Kind: "ScaledObject", Name: d.Name}
		}
		_, err := kube.AppsV1().Deployments(namespace).Create(ctx, d, metav1.CreateOptions{})
		require.NoError(t, err)
		_, err = flagger.FlaggerV1beta1().Canaries(namespace).Create(ctx, cd, metav1.CreateOptions{})
		require.NoError(t, err)
	}

	const why = "spec.autoscalerRef.kind: KEDA's ScaledObject CRD (scaledobjects.keda.sh/v1alpha1) is not installed"
	must.Eventually(t, 30*time.Second, 100*time.Millisecond, func() (bool, error) {
		cd, err := flagger.FlaggerV1beta1().Canaries(namespace).Get(ctx, "podinfo-0", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range cd.Status.Conditions {
			if c.Type == flaggerv1.PromotedType && c.Status == corev1.ConditionFalse && strings.HasPrefix(c.Message, why) {
				return true, nil
			}
		}
		return false, fmt.Errorf("conditions %+v", cd.Status.Conditions)
	}, "the Promoted condition says KEDA is missing")
	must.Eventually(t, 30*time.Second, 100*time.Millisecond, func() (bool, error) {
		events, err := kube.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=podinfo-0"})
		if err != nil {
			return false, err
		}
		for _, e := range events.Items {
			if e.Type == corev1.EventTypeWarning && strings.HasPrefix(e.Message, why) {
				return true, nil
			}
		}
		return false, fmt.Errorf("%d events, none says why", len(events.Items))
	}, "a Warning event says KEDA is missing")
	must.Eventually(t, 30*time.Second, 100*time.Millisecond, func() (bool, error) {
		cd, err := flagger.FlaggerV1beta1().Canaries(namespace).Get(ctx, "podinfo-1", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return cd.Status.Phase == flaggerv1.CanaryPhaseInitialized, fmt.Errorf("phase %q", cd.Status.Phase)
	}, "the canary without an autoscaler is initialised")

	_, err := kube.AppsV1().Deployments(namespace).Get(ctx, "podinfo-0-primary", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "no primary for the refused canary: %v", err)
	_, err = kube.CoreV1().Services(namespace).Get(ctx, "podinfo-0-primary", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "no Service for the refused canary: %v", err)
}
