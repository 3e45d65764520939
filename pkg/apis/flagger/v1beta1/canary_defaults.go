package v1beta1

import (
	"time"
)

// Defaults of the Canary fields that Flagger defaults in code rather than in
// the CRD; they are applied by the getters below so that stored objects keep
// exactly what the user wrote.
const (
	// DefaultProgressDeadlineSeconds is the default of spec.progressDeadlineSeconds.
	DefaultProgressDeadlineSeconds = 600
	// DefaultAnalysisInterval is the default of analysis.interval.
	DefaultAnalysisInterval = 60 * time.Second
	// MinAnalysisInterval is the shortest analysis interval honoured.
	MinAnalysisInterval = 10 * time.Second
	// DefaultMetricInterval is the default of analysis.metrics[].interval.
	DefaultMetricInterval = "1m"
	// DefaultMaxWeight is the default of analysis.maxWeight.
	DefaultMaxWeight = 100
	// DefaultPortName is the default of service.portName.
	DefaultPortName = "http"
	// DefaultReadyThreshold is the default of the ready thresholds, in percent.
	DefaultReadyThreshold = 100
	// DefaultCookieMaxAge is the default of sessionAffinity.maxAge, in seconds.
	DefaultCookieMaxAge = 86400
)

// GetServiceNames returns the names of the apex, primary and canary Services
// (the apex name is also the HTTPRoute's).
func (c *Canary) GetServiceNames() (apex, primary, canary string) {
	apex = c.Spec.TargetRef.Name
	if c.Spec.Service.Name != "" {
		apex = c.Spec.Service.Name
	}
	return apex, apex + "-primary", apex + "-canary"
}

// GetAnalysis returns spec.analysis, or the deprecated spec.canaryAnalysis
// when only that is set; nil when neither is.
func (c *Canary) GetAnalysis() *CanaryAnalysis {
	if c.Spec.Analysis != nil {
		return c.Spec.Analysis
	}
	return c.Spec.CanaryAnalysis
}

// SkipAnalysis reports whether new revisions are promoted without analysis:
// spec.skipAnalysis is set or there is no analysis block at all.
func (c *Canary) SkipAnalysis() bool {
	return c.Spec.SkipAnalysis || c.GetAnalysis() == nil
}

// GetAnalysisInterval returns the analysis interval: 60s by default, never
// less than 10s.
func (c *Canary) GetAnalysisInterval() time.Duration {
	a := c.GetAnalysis()
	if a == nil || a.Interval == "" {
		return DefaultAnalysisInterval
	}
	d, err := time.ParseDuration(a.Interval)
	if err != nil {
		return DefaultAnalysisInterval
	}
	return max(d, MinAnalysisInterval)
}

// GetAnalysisThreshold returns the number of failed checks that rolls a
// release back, 1 when unset.
func (c *Canary) GetAnalysisThreshold() int {
	if a := c.GetAnalysis(); a != nil && a.Threshold > 0 {
		return a.Threshold
	}
	return 1
}

// GetProgressDeadline returns spec.progressDeadlineSeconds as a duration,
// 600s when unset.
func (c *Canary) GetProgressDeadline() time.Duration {
	if c.Spec.ProgressDeadlineSeconds != nil {
		return time.Duration(*c.Spec.ProgressDeadlineSeconds) * time.Second
	}
	return DefaultProgressDeadlineSeconds * time.Second
}

// GetMaxWeight returns the canary weight at which the analysis ends: the last
// stepWeights entry when stepWeights is set, else maxWeight, else 100.
//
// With the judge's baseline it is at most MaxBaselineWeight: the baseline
// takes as much as the canary from the primary. Larger explicit values are
// refused at validation; the default of 100 is capped here.
func (c *Canary) GetMaxWeight() int {
	a := c.GetAnalysis()
	if a == nil {
		return DefaultMaxWeight
	}
	limit := DefaultMaxWeight
	if a.Judge != nil && a.Judge.Baseline {
		limit = MaxBaselineWeight
	}
	if n := len(a.StepWeights); n > 0 {
		return min(limit, a.StepWeights[n-1])
	}
	if a.MaxWeight > 0 {
		return min(limit, a.MaxWeight)
	}
	return limit
}

// MaxBaselineWeight is the largest canary weight of a run with the judge's
// baseline (primary 100-2w, baseline w, canary w).
const MaxBaselineWeight = 50

// GetMetricInterval returns the metric's query window, 1m when unset.
func (m *CanaryMetric) GetMetricInterval() string {
	if m.Interval == "" {
		return DefaultMetricInterval
	}
	return m.Interval
}

// GetPortName returns the name of the generated Services' port.
func (s *CanaryService) GetPortName() string {
	if s.PortName == "" {
		return DefaultPortName
	}
	return s.PortName
}

// Names of the builtin metrics, which Flagger computes from the provider's
// observer when the metric has neither a templateRef nor a query.
const (
	// BuiltinRequestSuccessRate is the percentage of canary requests not
	// answered with a 5xx.
	BuiltinRequestSuccessRate = "request-success-rate"
	// BuiltinRequestDuration is the 99th percentile of the canary's request
	// duration.
	BuiltinRequestDuration = "request-duration"
)

// IsBuiltin reports whether the metric is one of the builtin metrics: it
// has a builtin name and neither a templateRef nor a query, which take
// precedence over the name.
func (m *CanaryMetric) IsBuiltin() bool {
	return m.TemplateRef == nil && m.Query == "" &&
		(m.Name == BuiltinRequestSuccessRate || m.Name == BuiltinRequestDuration)
}

// WebhooksOf returns the webhooks of one type in spec order; a webhook
// without a type is a rollout hook. A nil analysis has none.
func (a *CanaryAnalysis) WebhooksOf(t HookType) []CanaryWebhook {
	if a == nil {
		return nil
	}
	var hooks []CanaryWebhook
	for _, h := range a.Webhooks {
		ht := h.Type
		if ht == "" {
			ht = RolloutHook
		}
		if ht == t {
			hooks = append(hooks, h)
		}
	}
	return hooks
}
