package metrics

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// newCanary returns the podinfo.test canary of Flagger's docs, changed by opts.
func newCanary(opts ...func(*flaggerv1.Canary)) *flaggerv1.Canary {
	c := &flaggerv1.Canary{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test"},
		Spec: flaggerv1.CanarySpec{
			TargetRef: flaggerv1.TargetReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
		},
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// newMetric returns a metric named name, changed by opts.
func newMetric(name string, opts ...func(*flaggerv1.CanaryMetric)) flaggerv1.CanaryMetric {
	m := flaggerv1.CanaryMetric{Name: name}
	for _, o := range opts {
		o(&m)
	}
	return m
}

func withRange(lo, hi *float64) func(*flaggerv1.CanaryMetric) {
	return func(m *flaggerv1.CanaryMetric) {
		m.ThresholdRange = &flaggerv1.CanaryThresholdRange{Min: lo, Max: hi}
	}
}

func withThreshold(t float64) func(*flaggerv1.CanaryMetric) {
	return func(m *flaggerv1.CanaryMetric) { m.Threshold = t }
}

func withTemplate(name string) func(*flaggerv1.CanaryMetric) {
	return func(m *flaggerv1.CanaryMetric) {
		m.TemplateRef = &flaggerv1.CrossNamespaceObjectReference{Name: name}
	}
}

func withQuery(q string) func(*flaggerv1.CanaryMetric) {
	return func(m *flaggerv1.CanaryMetric) { m.Query = q }
}

func ptr(f float64) *float64 { return &f }
