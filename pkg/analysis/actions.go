package analysis

import "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"

// Action is one change the controller applies after a tick. The set is
// closed: the controller handles each type below in a type switch. Every
// action is idempotent, so re-applying the actions of a tick whose status
// write failed does no harm.
type Action interface {
	// Describe says what the action does, in the words of an event that
	// reports its failure ("set the route's weights: ...").
	Describe() string
}

// EnsurePrimary creates what the primary side needs when it is missing: the
// <svc>-primary and <svc>-canary Services (create or update), the
// <target>-primary workload with its -primary ConfigMap and Secret copies,
// and the <autoscaler>-primary autoscaler. It never updates an existing
// primary's template; PromoteToPrimary does.
type EnsurePrimary struct{}

// ReconcileRouting creates or updates the apex Service (selecting the primary)
// and the HTTPRoute, keeping the weights and mirror currently set.
type ReconcileRouting struct{}

// SetRoutes sets the route's weights and mirror. With session affinity the
// router reads the cookies from Decision.Status.
type SetRoutes struct {
	// Primary is the weight of the primary backend.
	Primary int
	// Canary is the weight of the canary backend.
	Canary int
	// Mirrored copies the requests to the canary.
	Mirrored bool
	// Baseline is the weight of the judge's baseline backend (see
	// analysis.judge.baseline); Primary+Canary+Baseline is 100.
	Baseline int
}

// EnsureBaseline creates the judge's <target>-baseline workload and Service,
// or brings them up to date; a baseline still rolling out is not an error
// (Observations.Baseline says when it is ready).
type EnsureBaseline struct{}

// RemoveBaseline removes the baseline's workload once the route gives it no
// weight (its Service stays while the route refers to it).
type RemoveBaseline struct{}

// ScaleTargetToZero scales the target workload to zero replicas.
type ScaleTargetToZero struct{}

// ScaleTargetFromZero scales the target up for a new run: to its own
// replicas if set, else to the primary's (without an autoscaler), else to the
// autoscaler's minimum, else to one.
type ScaleTargetFromZero struct{}

// PromoteToPrimary copies the target's pod template (and its tracked
// ConfigMaps and Secrets) to the primary, provided the target still runs
// Revision, and records Revision on the primary in the same write. It writes
// nothing when the primary already runs Revision.
type PromoteToPrimary struct {
	// Revision is the v1beta1.RevisionID that was analysed.
	Revision string
}

// ReconcilePrimaryAutoscaler updates the primary's autoscaler from the
// target's. It is only emitted when spec.autoscalerRef is set.
type ReconcilePrimaryAutoscaler struct{}

// PauseTargetAutoscaler stops the target's autoscaler from scaling it up
// (KEDA: paused replicas 0; a no-op for a HorizontalPodAutoscaler). It is only
// emitted when spec.autoscalerRef is set.
type PauseTargetAutoscaler struct{}

// ResumeTargetAutoscaler undoes PauseTargetAutoscaler.
type ResumeTargetAutoscaler struct{}

// RunPostRolloutHooks calls the post-rollout webhooks with the given phase
// once the actions before it are applied. PostRolloutEvents turns the results
// into events; a failure changes nothing else.
type RunPostRolloutHooks struct {
	// Phase is the phase sent in the payload: Succeeded or Failed.
	Phase v1beta1.CanaryPhase
}

// RestoreTarget scales the target back up on deletion with revertOnDeletion:
// to the primary's replicas, or the autoscaler's minimum, or one.
type RestoreTarget struct{}

// RevertRouting hands traffic back to the target on deletion: an adopted
// apex Service gets its original selector back; Serin-created objects are
// left to garbage collection (see ReleaseFromTarget).
type RevertRouting struct{}

// ReleaseFromTarget removes the target's owner reference from the objects
// the canary controls (primary workload, its autoscaler and config copies,
// Services, route), so that garbage collection removes them with the
// canary: the end of revertOnDeletion, once the traffic is back on the
// target. Without it the target, their other owner, would keep them.
type ReleaseFromTarget struct{}

// HandOverToTarget gives the objects the canary controls to the target:
// their controller reference to the canary becomes a plain owner reference
// to the target, so that deleting the canary leaves them serving and
// deleting the target removes them. Only a canary deleted while it still
// carries the finalizer that an older Serin put on every canary needs it:
// every other object has the target's owner reference from its creation on.
type HandOverToTarget struct{}

// AddFinalizer adds Finalizer to the canary.
type AddFinalizer struct{}

// RemoveFinalizer removes Finalizer from the canary. On a canary being
// deleted it is the last action of its tick, since the object may vanish
// right after. On another (an older Serin's finalizer) it is the last of
// Decision.Actions, after those that give the canary's objects the target's
// owner reference, and before the status write, which would otherwise
// conflict with its update of the canary.
type RemoveFinalizer struct{}

// Finalizer is the finalizer that holds a Canary with revertOnDeletion,
// once deleted, until the target is restored; the name is Flagger's.
const Finalizer = "finalizer.flagger.app"

func (EnsurePrimary) Describe() string              { return "create the primary, its Services and autoscaler" }
func (ReconcileRouting) Describe() string           { return "reconcile the Services and the route" }
func (SetRoutes) Describe() string                  { return "set the route's weights" }
func (ScaleTargetToZero) Describe() string          { return "scale the target to zero" }
func (ScaleTargetFromZero) Describe() string        { return "scale the target up" }
func (PromoteToPrimary) Describe() string           { return "copy the analysed revision to the primary" }
func (ReconcilePrimaryAutoscaler) Describe() string { return "reconcile the primary's autoscaler" }
func (PauseTargetAutoscaler) Describe() string      { return "pause the target's autoscaler" }
func (ResumeTargetAutoscaler) Describe() string     { return "resume the target's autoscaler" }
func (RunPostRolloutHooks) Describe() string        { return "run the post-rollout webhooks" }
func (RestoreTarget) Describe() string              { return "scale the target back up" }
func (RevertRouting) Describe() string              { return "hand the traffic back to the target" }
func (ReleaseFromTarget) Describe() string          { return "release the canary's objects from the target" }
func (HandOverToTarget) Describe() string           { return "hand the canary's objects over to the target" }
func (AddFinalizer) Describe() string               { return "add the finalizer" }
func (RemoveFinalizer) Describe() string            { return "remove the finalizer" }
func (EnsureBaseline) Describe() string             { return "create or update the baseline" }
func (RemoveBaseline) Describe() string             { return "remove the baseline" }
