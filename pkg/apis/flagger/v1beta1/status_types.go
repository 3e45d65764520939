package v1beta1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CanaryPhase is where a canary is in its release cycle.
// +kubebuilder:validation:Enum="";Initializing;Initialized;Waiting;Progressing;WaitingPromotion;Promoting;Finalising;Succeeded;Failed;Terminating;Terminated
type CanaryPhase string

const (
	// CanaryPhaseInitializing means the canary was just seen and the primary is being created.
	CanaryPhaseInitializing CanaryPhase = "Initializing"
	// CanaryPhaseInitialized means the primary, Services and route exist and the target is scaled to zero.
	CanaryPhaseInitialized CanaryPhase = "Initialized"
	// CanaryPhaseWaiting means a new revision waits for a confirm-rollout gate.
	CanaryPhaseWaiting CanaryPhase = "Waiting"
	// CanaryPhaseProgressing means the analysis is running.
	CanaryPhaseProgressing CanaryPhase = "Progressing"
	// CanaryPhaseWaitingPromotion means the analysis passed and waits for a confirm-promotion gate.
	CanaryPhaseWaitingPromotion CanaryPhase = "WaitingPromotion"
	// CanaryPhasePromoting means the canary template was copied to the primary.
	CanaryPhasePromoting CanaryPhase = "Promoting"
	// CanaryPhaseFinalising means all traffic is back on the primary and the canary is being scaled down.
	CanaryPhaseFinalising CanaryPhase = "Finalising"
	// CanaryPhaseSucceeded means the last release was promoted.
	CanaryPhaseSucceeded CanaryPhase = "Succeeded"
	// CanaryPhaseFailed means the last release was rolled back.
	CanaryPhaseFailed CanaryPhase = "Failed"
	// CanaryPhaseTerminating means the canary is being deleted and its changes reverted.
	CanaryPhaseTerminating CanaryPhase = "Terminating"
	// CanaryPhaseTerminated means the revert on deletion is done.
	CanaryPhaseTerminated CanaryPhase = "Terminated"
)

// CanaryConditionType is the type of a canary condition.
type CanaryConditionType string

// PromotedType is the single condition Flagger keeps; users run
// `kubectl wait --for=condition=promoted`.
const PromotedType CanaryConditionType = "Promoted"

// CanaryStatus is the observed state of a canary release.
type CanaryStatus struct {
	// Phase of the release.
	// +optional
	Phase CanaryPhase `json:"phase,omitempty"`

	// FailedChecks is the number of failed checks in the current run.
	// +optional
	FailedChecks int `json:"failedChecks"`

	// CanaryWeight is the percentage of traffic routed to the canary.
	// +optional
	CanaryWeight int `json:"canaryWeight"`

	// Iterations is the number of analysis iterations done (A/B, blue/green).
	// +optional
	Iterations int `json:"iterations"`

	// TrackedConfigs maps configmap/<name> and secret/<name> to the checksum
	// of the data the target uses.
	// +optional
	TrackedConfigs *map[string]string `json:"trackedConfigs,omitempty"`

	// LastAppliedSpec is the hash of the pod template under analysis or last
	// seen.
	// +optional
	LastAppliedSpec string `json:"lastAppliedSpec,omitempty"`

	// LastPromotedSpec is the hash of the pod template last promoted.
	// +optional
	LastPromotedSpec string `json:"lastPromotedSpec,omitempty"`

	// LastHandledRequest is the serin.dev/request-id of the last request
	// (promote, abort, retry) the operator handled: a request whose id
	// differs from it is pending. Serin only; Flagger ignores it.
	// +optional
	LastHandledRequest string `json:"lastHandledRequest,omitempty"`

	// Paused is set by a pause request (kubectl serin pause) and cleared by
	// a resume request: the analysis holds its step, and moves no traffic,
	// until resumed. Serin only.
	// +optional
	Paused bool `json:"paused,omitempty"`

	// Run numbers the analysis runs of this canary, one per revision
	// analysed; the history of the current and the last few runs is in the
	// ConfigMap named in History. Serin only.
	// +optional
	Run int `json:"run,omitempty"`

	// History names the ConfigMap, owned by the canary, that keeps every
	// check of the current and the last few runs (kubectl serin explain).
	// Serin only.
	// +optional
	History string `json:"history,omitempty"`

	// Checks are the latest result of each metric and webhook of the current
	// run. Serin only.
	// +listType=map
	// +listMapKey=kind
	// +listMapKey=name
	// +optional
	Checks []CheckResult `json:"checks,omitempty"`

	// Judge is the state of each metric compared with the baseline in the
	// current run. Serin only.
	// +listType=map
	// +listMapKey=metric
	// +optional
	Judge []JudgeState `json:"judge,omitempty"`

	// LastTransitionTime is when the status was last written.
	// +optional
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`

	// SessionAffinityCookie is the cookie that pins users to the canary in the
	// current run.
	// +optional
	SessionAffinityCookie string `json:"sessionAffinityCookie,omitempty"`

	// PrimarySessionAffinityCookie is the cookie that pins users to the
	// primary in the current run.
	// +optional
	PrimarySessionAffinityCookie string `json:"primarySessionAffinityCookie,omitempty"`

	// PreviousSessionAffinityCookie is the cookie of the previous run, which
	// the route expires.
	// +optional
	PreviousSessionAffinityCookie string `json:"previousSessionAffinityCookie,omitempty"`

	// ObservedGeneration is the generation of the spec this status reflects.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions hold the Promoted condition.
	// +optional
	Conditions []CanaryCondition `json:"conditions,omitempty"`
}

// CanaryCondition is a condition of a Canary.
type CanaryCondition struct {
	// Type of the condition; Serin keeps the Promoted condition.
	Type CanaryConditionType `json:"type"`

	// Status of the condition: True, False or Unknown.
	// +kubebuilder:validation:Enum=True;False;Unknown
	Status corev1.ConditionStatus `json:"status"`

	// LastUpdateTime is when the condition was last written.
	// +optional
	LastUpdateTime metav1.Time `json:"lastUpdateTime,omitempty"`

	// LastTransitionTime is when the status last changed.
	// +optional
	LastTransitionTime metav1.Time `json:"lastTransitionTime,omitempty"`

	// Reason is the phase that set the condition.
	Reason string `json:"reason"`

	// Message explains the condition.
	// +optional
	Message string `json:"message,omitempty"`
}
