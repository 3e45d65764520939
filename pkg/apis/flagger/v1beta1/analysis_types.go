package v1beta1

// CanaryAnalysis describes how a new revision is validated and how traffic
// moves to it: a weighted canary (stepWeight or stepWeights), or a fixed
// number of iterations (A/B testing with match, blue/green otherwise).
//
// Unlike Flagger, a zero that would leave the selected strategy without a
// single step is rejected at admission: stepWeight 0 alone moves no traffic
// and iterations 0 alone selects a weighted canary with no weight, and
// either promoted at once without running a metric check. A zero the
// strategy ignores stays legal, as Flagger treats it as unset: stepWeight 0
// next to stepWeights or iterations, iterations 0 next to stepWeight or
// stepWeights, maxWeight 0 (100) and stepWeightPromotion 0 (all at once).
//
// +kubebuilder:validation:XValidation:rule="has(self.iterations) || has(self.stepWeight) || has(self.stepWeights)",message="analysis needs one of iterations, stepWeight or stepWeights"
// +kubebuilder:validation:XValidation:rule="!has(self.stepWeight) || self.stepWeight > 0 || has(self.stepWeights) || (has(self.iterations) && self.iterations > 0)",message="stepWeight must be at least 1: 0 moves no traffic and would promote without analysis",fieldPath=".stepWeight",reason="FieldValueInvalid"
// +kubebuilder:validation:XValidation:rule="!has(self.iterations) || self.iterations > 0 || (has(self.stepWeight) && self.stepWeight > 0) || has(self.stepWeights)",message="iterations must be at least 1 unless stepWeight or stepWeights is set: 0 iterations would promote without analysis",fieldPath=".iterations",reason="FieldValueInvalid"
type CanaryAnalysis struct {
	// Interval between two analysis steps, a Go duration. Defaults to 60s;
	// values under 10s are raised to 10s.
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +optional
	Interval string `json:"interval,omitempty"`

	// Threshold is the number of failed checks after which the release is
	// rolled back. Defaults to 1.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Threshold int `json:"threshold,omitempty"`

	// Iterations is the number of analysis steps of an A/B test or a
	// blue/green release. 0 is accepted only next to stepWeight or
	// stepWeights, which Flagger reads as "not blue/green".
	// +kubebuilder:validation:Minimum=0
	// +optional
	Iterations int `json:"iterations,omitempty"`

	// Mirror copies the traffic to the canary before it takes any user
	// traffic (blue/green; with Serin also ahead of a weighted canary).
	// +optional
	Mirror bool `json:"mirror,omitempty"`

	// MirrorWeight is the percentage of requests mirrored to the canary. The
	// Gateway API router maps it to the RequestMirror filter's percent.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	MirrorWeight int `json:"mirrorWeight,omitempty"`

	// MaxWeight is the highest percentage of traffic routed to the canary
	// before promotion. Defaults to 100; ignored when stepWeights is set.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	MaxWeight int `json:"maxWeight,omitempty"`

	// StepWeight is the percentage of traffic added to the canary at each
	// step. It wins over stepWeights. 0 is accepted only next to stepWeights
	// or iterations, which Flagger reads as unset.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	StepWeight int `json:"stepWeight,omitempty"`

	// StepWeights is an explicit ladder of canary weights, strictly
	// increasing, each from 1 to 100.
	//
	// Unlike Flagger, a rung of 0 is rejected: Flagger stays at weight 0
	// forever on it (stepWeights [0, 10]) or promotes without analysis
	// (stepWeights [0]).
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:items:Minimum=1
	// +kubebuilder:validation:items:Maximum=100
	// +kubebuilder:validation:XValidation:rule="self.isSorted()",message="stepWeights must be strictly increasing"
	// +listType=set
	// +optional
	StepWeights []int `json:"stepWeights,omitempty"`

	// StepWeightPromotion is the percentage of traffic moved back to the
	// primary at each promotion step. 0 (the default) moves it all at once.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	StepWeightPromotion int `json:"stepWeightPromotion,omitempty"`

	// PrimaryReadyThreshold is the percentage of primary replicas that must be
	// ready. Defaults to 100.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	PrimaryReadyThreshold *int `json:"primaryReadyThreshold,omitempty"`

	// CanaryReadyThreshold is the percentage of canary replicas that must be
	// ready. Defaults to 100.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	CanaryReadyThreshold *int `json:"canaryReadyThreshold,omitempty"`

	// Match are the A/B testing conditions: requests matching any of them go
	// to the canary.
	// +optional
	Match []HTTPMatchRequest `json:"match,omitempty"`

	// SessionAffinity pins users who reached the canary to it with a cookie.
	// +optional
	SessionAffinity *SessionAffinity `json:"sessionAffinity,omitempty"`

	// Metrics are the checks run at every step.
	// +optional
	Metrics []CanaryMetric `json:"metrics,omitempty"`

	// Webhooks are the gates, tests and notifications called during the
	// release.
	// +optional
	Webhooks []CanaryWebhook `json:"webhooks,omitempty"`

	// Alerts are the alert providers notified of the release's progress.
	// +optional
	Alerts []CanaryAlert `json:"alerts,omitempty"`

	// Judge compares the canary with a baseline, sequentially, for the
	// metrics that set compare (Serin only).
	// +optional
	Judge *CanaryJudge `json:"judge,omitempty"`
}

// SessionAffinity configures cookie-based stickiness to the canary.
//
// +kubebuilder:validation:XValidation:rule="!has(self.primaryCookieName) || self.primaryCookieName != self.cookieName",message="primaryCookieName must differ from cookieName"
type SessionAffinity struct {
	// CookieName is the name of the cookie that pins a user to the canary.
	// +kubebuilder:validation:MinLength=1
	CookieName string `json:"cookieName"`

	// PrimaryCookieName, when set, pins users who reached the primary to it
	// too.
	// +optional
	PrimaryCookieName string `json:"primaryCookieName,omitempty"`

	// MaxAge of the cookie in seconds. Defaults to 86400.
	// +kubebuilder:validation:Minimum=0
	// +optional
	MaxAge int `json:"maxAge,omitempty"`

	// Domain attribute of the cookie.
	// +optional
	Domain string `json:"domain,omitempty"`

	// HttpOnly attribute of the cookie.
	// +optional
	HttpOnly bool `json:"httpOnly,omitempty"`

	// Partitioned attribute of the cookie.
	// +optional
	Partitioned bool `json:"partitioned,omitempty"`

	// Path attribute of the cookie.
	// +optional
	Path string `json:"path,omitempty"`

	// SameSite attribute of the cookie.
	// +kubebuilder:validation:Enum=Strict;Lax;None
	// +optional
	SameSite string `json:"sameSite,omitempty"`

	// Secure attribute of the cookie.
	// +optional
	Secure bool `json:"secure,omitempty"`
}

// CanaryMetric is one check of the analysis: a builtin metric
// (request-success-rate, request-duration), a MetricTemplate, or a
// deprecated inline query.
type CanaryMetric struct {
	// Name of the metric; request-success-rate and request-duration name the
	// builtin metrics when no templateRef or query is given.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`

	// Interval is the query's time window, a Go duration. Defaults to 1m.
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +optional
	Interval string `json:"interval,omitempty"`

	// Threshold is the deprecated maximum accepted value; use thresholdRange.
	// +optional
	Threshold float64 `json:"threshold,omitempty"`

	// ThresholdRange is the accepted range of the metric's value.
	// +optional
	ThresholdRange *CanaryThresholdRange `json:"thresholdRange,omitempty"`

	// Query is a deprecated inline PromQL query run against the canary's
	// metrics server; use templateRef.
	// +optional
	Query string `json:"query,omitempty"`

	// TemplateRef references the MetricTemplate holding the query.
	// +optional
	TemplateRef *CrossNamespaceObjectReference `json:"templateRef,omitempty"`

	// TemplateVariables are values available to the template as
	// {{ variables.<key> }}.
	// +optional
	TemplateVariables map[string]string `json:"templateVariables,omitempty"`

	// Compare judges the metric against the baseline instead of against
	// thresholdRange; it needs analysis.judge.baseline (Serin only).
	// +optional
	Compare *MetricComparison `json:"compare,omitempty"`
}

// CanaryThresholdRange is the accepted range of a metric's value; either
// bound may be left out.
//
// +kubebuilder:validation:XValidation:rule="!has(self.min) || !has(self.max) || self.min <= self.max",message="thresholdRange.min must not exceed thresholdRange.max"
type CanaryThresholdRange struct {
	// Min is the lowest accepted value.
	// +optional
	Min *float64 `json:"min,omitempty"`

	// Max is the highest accepted value.
	// +optional
	Max *float64 `json:"max,omitempty"`
}

// AlertSeverity filters the alerts sent to a provider.
// +kubebuilder:validation:Enum="";info;warn;error
type AlertSeverity string

const (
	// SeverityInfo sends every alert.
	SeverityInfo AlertSeverity = "info"
	// SeverityWarn sends warnings and errors.
	SeverityWarn AlertSeverity = "warn"
	// SeverityError sends errors only.
	SeverityError AlertSeverity = "error"
)

// CanaryAlert sends the release's alerts to an AlertProvider.
type CanaryAlert struct {
	// Name of the alert.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`

	// Severity is the lowest severity sent: info (default), warn or error.
	// +optional
	Severity AlertSeverity `json:"severity,omitempty"`

	// ProviderRef references the AlertProvider.
	ProviderRef CrossNamespaceObjectReference `json:"providerRef"`
}

// HookType says when a webhook is called.
// +kubebuilder:validation:Enum="";confirm-rollout;pre-rollout;rollout;confirm-promotion;post-rollout;event;rollback;confirm-traffic-increase
type HookType string

const (
	// RolloutHook runs at every analysis step; a failure counts as a failed check.
	RolloutHook HookType = "rollout"
	// PreRolloutHook runs before the canary takes traffic.
	PreRolloutHook HookType = "pre-rollout"
	// PostRolloutHook runs after promotion or rollback.
	PostRolloutHook HookType = "post-rollout"
	// ConfirmRolloutHook holds a new revision until it answers 2xx.
	ConfirmRolloutHook HookType = "confirm-rollout"
	// ConfirmPromotionHook holds the promotion until it answers 2xx.
	ConfirmPromotionHook HookType = "confirm-promotion"
	// ConfirmTrafficIncreaseHook holds each weight increase until it answers 2xx.
	ConfirmTrafficIncreaseHook HookType = "confirm-traffic-increase"
	// EventHook receives every event of the canary.
	EventHook HookType = "event"
	// RollbackHook rolls the release back when it answers 2xx.
	RollbackHook HookType = "rollback"
)

// CanaryWebhook is an HTTP call made during the release.
type CanaryWebhook struct {
	// Type says when the webhook is called; empty means rollout.
	// +optional
	Type HookType `json:"type,omitempty"`

	// Name of the webhook.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`

	// URL the payload is POSTed to.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:Pattern=`^https?://`
	URL string `json:"url"`

	// MuteAlert suppresses the alert sent while a gate is closed.
	// +optional
	MuteAlert bool `json:"muteAlert,omitempty"`

	// Timeout of each attempt, a Go duration. Defaults to 10s.
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$`
	// +optional
	Timeout string `json:"timeout,omitempty"`

	// Retries is the number of retries on connection errors, 429 and 5xx.
	// +kubebuilder:validation:Minimum=0
	// +optional
	Retries int `json:"retries,omitempty"`

	// DisableTLS skips the verification of the server's certificate.
	// +optional
	DisableTLS bool `json:"disableTLS,omitempty"`

	// Metadata is sent in the payload's metadata field.
	// +optional
	Metadata map[string]string `json:"metadata,omitempty"`
}
