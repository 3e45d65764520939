package controller

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/syncerr"
	"github.com/serin-dev/serin/test/lib/must"
)

func withRefs(cd *flaggerv1.Canary, templateNS, providerNS string) *flaggerv1.Canary {
	cd.Spec.Analysis.Metrics = []flaggerv1.CanaryMetric{
		{Name: "success", Threshold: 99, Interval: "1m", TemplateRef: &flaggerv1.CrossNamespaceObjectReference{Name: "own"}},
		{Name: "latency", Threshold: 500, Interval: "1m", TemplateRef: &flaggerv1.CrossNamespaceObjectReference{Name: "latency", Namespace: templateNS}},
	}
	cd.Spec.Analysis.Alerts = []flaggerv1.CanaryAlert{
		{Name: "chat", ProviderRef: flaggerv1.CrossNamespaceObjectReference{Name: "chat", Namespace: providerNS}},
	}
	return cd
}

func TestCrossNamespaceRefs(t *testing.T) {
	assert.NoError(t, crossNamespaceRefs(withRefs(testCanary(), "", "")), "empty namespaces are the canary's")
	assert.NoError(t, crossNamespaceRefs(withRefs(testCanary(), "test", "test")))
	noAnalysis := testCanary()
	noAnalysis.Spec.Analysis = nil
	assert.NoError(t, crossNamespaceRefs(noAnalysis))

	err := crossNamespaceRefs(withRefs(testCanary(), "istio-system", "flagger-system"))
	require.Error(t, err)
	assert.Equal(t,
		"spec.analysis.metrics[1].templateRef: MetricTemplate istio-system/latency is in another namespace and cross-namespace references are blocked (-no-cross-namespace-refs)\n"+
			"spec.analysis.alerts[0].providerRef: AlertProvider flagger-system/chat is in another namespace and cross-namespace references are blocked (-no-cross-namespace-refs)",
		err.Error())
}

// TestCrossNamespaceRefsRefuseTheCanary checks that with
// -no-cross-namespace-refs such a canary is refused before anything is
// created, with the Promoted condition naming the field.
func TestCrossNamespaceRefsRefuseTheCanary(t *testing.T) {
	f := newFixture(t)
	f.ctrl.cfg.NoCrossNamespaceRefs = true
	cd := withRefs(testCanary(), "istio-system", "")
	cd.Generation = 2
	_, err := f.flagger.FlaggerV1beta1().Canaries("test").Update(context.Background(), cd, metav1.UpdateOptions{})
	require.NoError(t, err)
	must.Eventually(t, 5*time.Second, 10*time.Millisecond, func() (bool, error) {
		c, err := f.ctrl.canaries.Canaries("test").Get("podinfo")
		return err == nil && c.Generation == 2, err
	})

	err = f.ctrl.sync(context.Background(), f.key)
	require.Error(t, err)
	assert.True(t, syncerr.IsPermanent(err))
	stored, err := f.flagger.FlaggerV1beta1().Canaries("test").Get(context.Background(), "podinfo", metav1.GetOptions{})
	require.NoError(t, err)
	require.Len(t, stored.Status.Conditions, 1)
	assert.Equal(t, "InvalidSpec", stored.Status.Conditions[0].Reason)
	assert.Equal(t, corev1.ConditionFalse, stored.Status.Conditions[0].Status)
	assert.Contains(t, stored.Status.Conditions[0].Message, "spec.analysis.metrics[1].templateRef: MetricTemplate istio-system/latency")
	_, err = f.kube.AppsV1().Deployments("test").Get(context.Background(), "podinfo-primary", metav1.GetOptions{})
	assert.Error(t, err, "no primary was created")

	f.ctrl.cfg.NoCrossNamespaceRefs = false
	f.clock.Step(time.Minute)
	require.NoError(t, f.ctrl.sync(context.Background(), f.key), "without the flag the same canary runs")
}
