package analysis

import (
	"context"
	"time"

	"github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/judge"
)

// Input is everything one tick of the state machine looks at.
type Input struct {
	// Canary is the canary as read from the lister. Step never modifies it.
	Canary *v1beta1.Canary

	// Now is the time of the tick; it stamps the status and its condition.
	Now time.Time

	// Observed is what the controller read from its listers before the tick.
	Observed Observations

	// Checks runs the webhooks and metric queries; Step calls it only in the
	// phases that need them. It must not be nil.
	Checks Checks
}

// Observations are the facts the controller gathers cheaply, from listers,
// before each tick. Step needs no separate "bootstrap done" flags: a missing
// primary is a primary that is not ready, and a missing or not yet accepted
// route is a route error.
type Observations struct {
	// TargetMissing is true when the target workload does not exist.
	TargetMissing bool

	// TargetHash is the hash of the target's pod template, in the format of
	// status.lastAppliedSpec.
	TargetHash string

	// TrackedConfigs maps configmap/<name> and secret/<name> to the checksum
	// of the data the target uses; nil when config tracking is disabled.
	TrackedConfigs map[string]string

	// Primary is the readiness of the <target>-primary workload. A primary
	// that does not exist yet is Waiting.
	Primary Readiness

	// PrimaryRevision is the revision (v1beta1.RevisionID) whose template
	// the primary runs, from its v1beta1.PromotedRevisionAnnotation; empty
	// when unknown (a primary created by Flagger or an older Serin).
	PrimaryRevision string

	// Canary is the readiness of the target workload.
	Canary Readiness

	// Routes are the weights currently set on the route, or why they cannot
	// be read.
	Routes Routes

	// Baseline is the readiness of the judge's <target>-baseline workload,
	// observed when analysis.judge.baseline is set or the workload exists;
	// BaselineExists says whether it exists.
	Baseline       Readiness
	BaselineExists bool
}

// ReadyState says whether a workload is ready.
type ReadyState int

const (
	// Waiting means the workload is not ready yet and may become ready; it
	// is the zero value so that an unset observation never counts as ready.
	Waiting ReadyState = iota
	// Ready means the workload's updated replicas are available.
	Ready
	// Failed means the workload will not become ready without a change, for
	// example because its progress deadline was exceeded.
	Failed
)

// Readiness is a workload's ReadyState with the reason it is not ready.
type Readiness struct {
	// State is the readiness.
	State ReadyState

	// Message explains a Waiting or Failed state and becomes a warning event
	// as it is, e.g. "canary deployment podinfo.test not ready: waiting for
	// rollout to finish: 1 out of 2 new replicas have been updated".
	Message string

	// Draining is true for a workload scaled to zero whose pods are still
	// being removed: scaled back up now, its status could say ready while
	// it has no pods.
	Draining bool
}

// Routes are the weights read back from the route.
type Routes struct {
	// Primary is the weight of the primary backend.
	Primary int
	// Canary is the weight of the canary backend.
	Canary int
	// Mirrored is true when the route mirrors requests to the canary.
	Mirrored bool
	// Baseline is the weight of the judge's baseline backend.
	Baseline int
	// Err is set when the weights cannot be trusted: the route is missing or
	// a parent has not accepted its current generation. Its text becomes a
	// warning event and the tick waits.
	Err error
}

// Checks runs the expensive, phase-dependent checks of a tick. Implementations
// do the I/O only; which hooks and metrics run, in what order, and what a
// failure means is decided by Step.
type Checks interface {
	// CallWebhook posts the webhook payload for the given phase to hook and
	// returns nil when it answered 200, 201 or 202; otherwise the error's text
	// is the response body or the transport error, as events show it.
	CallWebhook(ctx context.Context, hook v1beta1.CanaryWebhook, phase v1beta1.CanaryPhase) error

	// CheckMetric runs one metric's query and compares the value with its
	// threshold. It returns nil when the metric passes; otherwise the error's
	// text is the complete event message, e.g. "Halt podinfo.test advancement
	// success rate 98.50% < 99%" or "Halt advancement no values found for
	// custom metric: error-rate". No data is a failure.
	CheckMetric(ctx context.Context, metric v1beta1.CanaryMetric) error

	// CompareMetric runs one tick of the judge for a metric with compare
	// (analysis.metrics[index]): it asks the metric of the baseline and of
	// the canary, folds the answers into state (the metric's
	// status.judge[].state, "" for a new run) and decides. final asks a
	// continuous metric for its one comparison (it is fixed-horizon);
	// otherwise it only collects. An error (a query that failed, a
	// template that is missing) fails the tick's checks as a metric's does.
	CompareMetric(ctx context.Context, metric v1beta1.CanaryMetric, index int, state string, final bool) (Comparison, error)

	// ProbeMetricProviders checks that the providers of the canary's metrics
	// answer. Its result is only reported, never blocking.
	ProbeMetricProviders(ctx context.Context) error
}

// Comparison is one tick of the judge for a metric: its new state and its
// decision.
type Comparison struct {
	// State is the judge's state to store in status.judge[].state.
	State string
	// Decision is the verdict with the numbers behind it.
	Decision judge.Decision
}
