package v1beta1

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestCanaryDefaults(t *testing.T) {
	seconds := int32(90)
	cases := []struct {
		name      string
		canary    Canary
		interval  time.Duration
		threshold int
		maxWeight int
		deadline  time.Duration
		skip      bool
	}{
		{"no analysis", Canary{}, 60 * time.Second, 1, 100, 600 * time.Second, true},
		{"defaults", Canary{Spec: CanarySpec{Analysis: &CanaryAnalysis{StepWeight: 10}}},
			60 * time.Second, 1, 100, 600 * time.Second, false},
		{"set", Canary{Spec: CanarySpec{ProgressDeadlineSeconds: &seconds,
			Analysis: &CanaryAnalysis{Interval: "2m", Threshold: 5, MaxWeight: 50}}},
			2 * time.Minute, 5, 50, 90 * time.Second, false},
		{"short interval raised", Canary{Spec: CanarySpec{Analysis: &CanaryAnalysis{Interval: "2s"}}},
			10 * time.Second, 1, 100, 600 * time.Second, false},
		{"stepWeights win over maxWeight", Canary{Spec: CanarySpec{Analysis: &CanaryAnalysis{MaxWeight: 50, StepWeights: []int{1, 2, 10, 80}}}},
			60 * time.Second, 1, 80, 600 * time.Second, false},
		{"deprecated canaryAnalysis", Canary{Spec: CanarySpec{CanaryAnalysis: &CanaryAnalysis{Interval: "30s", Threshold: 2}}},
			30 * time.Second, 2, 100, 600 * time.Second, false},
		{"skipAnalysis", Canary{Spec: CanarySpec{SkipAnalysis: true, Analysis: &CanaryAnalysis{}}},
			60 * time.Second, 1, 100, 600 * time.Second, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.interval, tc.canary.GetAnalysisInterval())
			assert.Equal(t, tc.threshold, tc.canary.GetAnalysisThreshold())
			assert.Equal(t, tc.maxWeight, tc.canary.GetMaxWeight())
			assert.Equal(t, tc.deadline, tc.canary.GetProgressDeadline())
			assert.Equal(t, tc.skip, tc.canary.SkipAnalysis())
		})
	}
}

func TestServiceNames(t *testing.T) {
	c := Canary{Spec: CanarySpec{TargetRef: TargetReference{Name: "podinfo"}}}
	apex, primary, canary := c.GetServiceNames()
	assert.Equal(t, []string{"podinfo", "podinfo-primary", "podinfo-canary"}, []string{apex, primary, canary})
	c.Spec.Service.Name = "web"
	apex, primary, canary = c.GetServiceNames()
	assert.Equal(t, []string{"web", "web-primary", "web-canary"}, []string{apex, primary, canary})
	assert.Equal(t, "http", c.Spec.Service.GetPortName())
}

func TestMetricIsBuiltin(t *testing.T) {
	tests := []struct {
		metric CanaryMetric
		want   bool
	}{
		{CanaryMetric{Name: "request-success-rate"}, true},
		{CanaryMetric{Name: "request-duration"}, true},
		{CanaryMetric{Name: "error-rate"}, false},
		{CanaryMetric{Name: "request-duration", Query: "up"}, false},
		{CanaryMetric{Name: "request-success-rate", TemplateRef: &CrossNamespaceObjectReference{Name: "t"}}, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.metric.IsBuiltin(), "%+v", tt.metric)
	}
}

func TestWebhooksOf(t *testing.T) {
	a := &CanaryAnalysis{Webhooks: []CanaryWebhook{
		{Name: "untyped"}, {Name: "gate", Type: ConfirmRolloutHook}, {Name: "load", Type: RolloutHook}, {Name: "gate2", Type: ConfirmRolloutHook},
	}}
	names := func(hooks []CanaryWebhook) (out []string) {
		for _, h := range hooks {
			out = append(out, h.Name)
		}
		return out
	}
	assert.Equal(t, []string{"untyped", "load"}, names(a.WebhooksOf(RolloutHook)), "an untyped hook is a rollout hook")
	assert.Equal(t, []string{"gate", "gate2"}, names(a.WebhooksOf(ConfirmRolloutHook)), "in spec order")
	assert.Empty(t, a.WebhooksOf(EventHook))
	assert.Empty(t, (*CanaryAnalysis)(nil).WebhooksOf(RolloutHook))
}
