package v1beta1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// CheckKind is what a recorded check ran.
// +kubebuilder:validation:Enum=metric;webhook
type CheckKind string

const (
	// MetricCheck is a metric query judged against its threshold.
	MetricCheck CheckKind = "metric"
	// WebhookCheck is a webhook call.
	WebhookCheck CheckKind = "webhook"
)

// CheckVerdict is the outcome of a recorded check.
// +kubebuilder:validation:Enum=Pass;Fail;Error;NoData;Skipped;Continue;Inconclusive
type CheckVerdict string

const (
	// CheckPass means the value was within its threshold, or the webhook
	// answered 2xx.
	CheckPass CheckVerdict = "Pass"
	// CheckFail means the value was out of its threshold, or the webhook
	// answered otherwise.
	CheckFail CheckVerdict = "Fail"
	// CheckError means the check could not run (provider unreachable, bad
	// query, connection refused).
	CheckError CheckVerdict = "Error"
	// CheckNoData means the query returned no value.
	CheckNoData CheckVerdict = "NoData"
	// CheckSkipped means the check was not run at this step.
	CheckSkipped CheckVerdict = "Skipped"
	// CheckContinue means the judge has usable data but no decision yet.
	CheckContinue CheckVerdict = "Continue"
	// CheckInconclusive means the judge cannot decide on the data (too
	// little traffic, a traffic split that does not match the weights); it
	// is never a pass.
	CheckInconclusive CheckVerdict = "Inconclusive"
)

// CheckResult is one check of an analysis step as Serin ran it: enough to
// ask the query again (`kubectl serin replay`) and to see why a release
// promoted or rolled back. Serin only; Flagger ignores it.
type CheckResult struct {
	// Kind is metric or webhook.
	Kind CheckKind `json:"kind"`

	// Name of the metric or webhook.
	Name string `json:"name"`

	// Type is the metric provider's type (prometheus) or the webhook's type
	// (rollout, confirm-promotion, ...).
	// +optional
	Type string `json:"type,omitempty"`

	// Query is the rendered query (metrics only).
	// +optional
	Query string `json:"query,omitempty"`

	// Address is the metrics provider's address (metrics only).
	// +optional
	Address string `json:"address,omitempty"`

	// EvaluatedAt is the evaluation time sent to the provider, or when the
	// webhook was called.
	EvaluatedAt metav1.Time `json:"evaluatedAt"`

	// Value is the metric's value as a decimal string, or the webhook's
	// HTTP status.
	// +optional
	Value string `json:"value,omitempty"`

	// Threshold is the accepted range, "max 1", "min 99" or "min 99 max 100"
	// (metrics only).
	// +optional
	Threshold string `json:"threshold,omitempty"`

	// Verdict of the check.
	Verdict CheckVerdict `json:"verdict"`

	// Message is the error, or the first line of the webhook's answer,
	// bounded in length.
	// +optional
	Message string `json:"message,omitempty"`

	// DurationMilliseconds is how long the query or call took.
	// +optional
	DurationMilliseconds int64 `json:"durationMilliseconds,omitempty"`
}
