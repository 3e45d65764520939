package analysis

import (
	"time"

	"github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// Decision is the outcome of one tick. The controller applies Actions in
// order, stopping at the first error (the next tick recomputes everything
// from the cluster), then writes Status if it differs from the stored one,
// then applies AfterStatus, and only then records Events and sends Alerts,
// and requeues the key after RequeueAfter. See doc.go for why a step in
// this order can be interrupted anywhere and resumed from the cluster.
type Decision struct {
	// Status is the complete new status of the canary.
	Status v1beta1.CanaryStatus

	// Actions are the changes to apply, in order, before the status is
	// written. Each prefix of them leaves the cluster in a state from which
	// the phase in the stored status decides the same step again.
	Actions []Action

	// AfterStatus are the changes that may only be made once the status
	// records the phase they belong to: those after which the stored phase
	// could no longer decide its step (scaling the target to zero ends an
	// analysis, copying the template to the primary starts a promotion), and
	// the post-rollout hooks, which must not be repeated by a retried status
	// write. The phase they lead to makes them again, from what the cluster
	// shows, until they are done (the post-rollout hooks excepted: an
	// interruption right after the status write loses them, at most once).
	AfterStatus []Action

	// Events are the Kubernetes events to record on the canary, in order.
	Events []Event

	// Alerts are the notifications to send to the canary's alert providers.
	Alerts []Alert

	// Next is when the next tick is due, and what may bring it forward.
	Next Next

	// Reason names the check that stopped or redirected the tick (one of the
	// Reason constants); it is empty when the phase ran through. It is meant
	// for logs and metrics; Next, not Reason, says what the tick waits for.
	Reason string
}

// Next says when a canary's next tick is due. It is the only input of the
// controller's scheduler: a new check that waits on something says so here,
// and the wake-up follows.
type Next struct {
	// After is the time from this tick to the next: the analysis interval
	// while a run goes on, a poll while a deletion waits. Zero means that
	// nothing is due: the canary is idle (see Idle) and only a change (an
	// informer event) wakes it.
	After time.Duration

	// WhenReady brings the next tick forward to the moment this workload is
	// ready: the tick was held on its readiness, and the event that makes
	// it ready should not wait for After.
	WhenReady Workload
}

// Workload names one of a canary's workloads.
type Workload int

const (
	// NoWorkload is the zero value: the tick waits on no workload.
	NoWorkload Workload = iota
	// PrimaryWorkload is the <target>-primary workload.
	PrimaryWorkload
	// TargetWorkload is the target, which runs the canary.
	TargetWorkload
)

// Idle reports whether a canary whose stored status is in phase has nothing
// to do until something changes: it was never run (""), or it is
// Initialized, Succeeded or Failed. Its next tick comes from an informer
// event (a new revision, an edit, a deletion, a repair to make), never from
// a schedule, so a fleet of idle canaries costs nothing between releases.
func Idle(phase v1beta1.CanaryPhase) bool {
	switch phase {
	case "", v1beta1.CanaryPhaseInitialized, v1beta1.CanaryPhaseSucceeded, v1beta1.CanaryPhaseFailed:
		return true
	}
	return false
}

// EventReason is the reason of every event, as Flagger records them.
const EventReason = "Synced"

// Event is a Kubernetes event to record on the canary. It is also what the
// controller posts to the event webhooks.
type Event struct {
	// Type is corev1.EventTypeNormal or corev1.EventTypeWarning.
	Type string
	// Reason is always EventReason.
	Reason string
	// Message is Flagger's text for the situation.
	Message string
}

// Alert is a notification for the canary's alert providers, or for the
// global notifier when the canary lists none. Providers filter on Severity.
type Alert struct {
	// Severity is info, warn or error.
	Severity v1beta1.AlertSeverity
	// Message is Flagger's alert text.
	Message string
	// Fields are the metadata Flagger attaches to the initialization and
	// new-revision alerts; nil otherwise. The controller may append its own
	// (e.g. the cluster name).
	Fields []AlertField
}

// AlertField is one titled value shown with an alert.
type AlertField struct {
	// Name is the field's title.
	Name string
	// Value is the field's text.
	Value string
}
