package v1beta1

// CanaryJudge compares the canary with a baseline (the old version, started
// fresh with the analysis) instead of with fixed thresholds, sequentially:
// it decides as soon as the evidence allows, with a bound on false
// rollbacks however often it looks. Serin only; Flagger ignores it.
type CanaryJudge struct {
	// Baseline runs a <target>-baseline Deployment from the primary's
	// template, with as many replicas as the canary and its own Service,
	// during the analysis; it takes the canary's weight from the primary
	// (primary 100-2w, baseline w, canary w) and is removed at promotion,
	// rollback and on any interruption.
	// +optional
	Baseline bool `json:"baseline,omitempty"`

	// Alpha bounds the probability of ever rolling back a canary that is no
	// worse than tolerated, a decimal string. Defaults to 0.01.
	// +kubebuilder:validation:Pattern=`^0?\.[0-9]*[1-9][0-9]*$`
	// +optional
	Alpha string `json:"alpha,omitempty"`

	// Beta bounds the probability of passing early a canary that is worse, a
	// decimal string. Defaults to 0.05.
	// +kubebuilder:validation:Pattern=`^0?\.[0-9]*[1-9][0-9]*$`
	// +optional
	Beta string `json:"beta,omitempty"`

	// MinRequests is how many requests each arm serves before a count
	// metric decides. Defaults to 1000.
	// +kubebuilder:validation:Minimum=1
	// +optional
	MinRequests int `json:"minRequests,omitempty"`

	// EarlyPromotion promotes as soon as every compared metric passes,
	// before the last weight step. Defaults to false.
	// +optional
	EarlyPromotion bool `json:"earlyPromotion,omitempty"`
}

// ComparisonKind says how a metric is compared with the baseline.
// +kubebuilder:validation:Enum=count;continuous
type ComparisonKind string

const (
	// CountComparison compares bad-event rates from cumulative counters.
	CountComparison ComparisonKind = "count"
	// ContinuousComparison compares per-tick values (Mann-Whitney U).
	ContinuousComparison ComparisonKind = "continuous"
)

// MetricComparison compares a metric of the canary with the baseline's.
// The metric's template is queried once per arm, with {{ arm }} set to
// primary, baseline or canary and {{ workload }} to that arm's Deployment.
//
// +kubebuilder:validation:XValidation:rule="self.kind != 'count' || has(self.totalTemplateRef)",message="compare.totalTemplateRef is required for a count comparison",fieldPath=".totalTemplateRef",reason="FieldValueRequired"
type MetricComparison struct {
	// Kind is count (the template returns a cumulative counter of bad
	// events, totalTemplateRef one of requests) or continuous (the template
	// returns a value per tick, compared by distribution).
	Kind ComparisonKind `json:"kind"`

	// TotalTemplateRef references the MetricTemplate that returns the
	// cumulative count of requests of an arm (count comparisons).
	// +optional
	TotalTemplateRef *CrossNamespaceObjectReference `json:"totalTemplateRef,omitempty"`

	// Tolerance is how much worse the canary may be, a decimal string: the
	// largest ratio of its bad-event rate to the baseline's (count, default
	// 1), or the largest shift as a fraction of the baseline's median
	// (continuous, default 0).
	// +kubebuilder:validation:Pattern=`^[0-9]+(\.[0-9]+)?$`
	// +optional
	Tolerance string `json:"tolerance,omitempty"`

	// LowerIsWorse is for continuous metrics where less is worse
	// (throughput); by default more is worse.
	// +optional
	LowerIsWorse bool `json:"lowerIsWorse,omitempty"`
}

// JudgeState is the judge's state of one compared metric in the current
// run: enough to resume the test after a restart, and to see why it
// decided.
type JudgeState struct {
	// Metric is the name of the compared metric.
	Metric string `json:"metric"`

	// Verdict is the last decision: Continue, Pass, Fail or Inconclusive.
	// +optional
	Verdict string `json:"verdict,omitempty"`

	// Reason is the last decision's reason in one word.
	// +optional
	Reason string `json:"reason,omitempty"`

	// Message is the last decision in a sentence.
	// +optional
	Message string `json:"message,omitempty"`

	// State is the serialized test state (counters seen, accumulated
	// evidence, per-tick values), opaque to users.
	// +optional
	State string `json:"state,omitempty"`
}
