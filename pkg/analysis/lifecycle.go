package analysis

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// SuspendedType is the condition a suspended canary carries: status True,
// reason Suspended. It is appended after the Promoted condition and removed
// on resume.
//
// Unlike Flagger, which keeps only the Promoted condition, it makes a
// suspension visible (kubectl wait --for=condition=suspended) and lets the
// state machine tell a resume from any other spec edit.
const SuspendedType v1beta1.CanaryConditionType = "Suspended"

// conditionSuspended is the message of the Suspended condition.
const conditionSuspended = "spec.suspend is set: the analysis and the traffic are frozen."

// suspend freezes the canary: nothing is reconciled and the weights stay as
// they are. The status is left as it is but for the Suspended condition.
//
// Unlike Flagger, which records "skipping canary run as object is suspended"
// on every tick, the event is recorded once per suspension, by the tick that
// adds the Suspended condition; resume records one when it is lifted. The
// condition lives in the status, so a restart of the controller repeats
// neither.
func (t *tick) suspend() {
	t.frozen = true
	t.d.Reason = ReasonSuspended
	if slices.ContainsFunc(t.st.Conditions, isSuspended) {
		return
	}
	now := metav1.NewTime(t.in.Now).Rfc3339Copy()
	t.st.Conditions = append(t.st.Conditions, v1beta1.CanaryCondition{
		Type:               SuspendedType,
		Status:             corev1.ConditionTrue,
		LastUpdateTime:     now,
		LastTransitionTime: now,
		Reason:             ReasonSuspended,
		Message:            conditionSuspended,
	})
	t.normal(msgSuspended)
}

// resume removes the Suspended condition of a canary no longer suspended,
// with one event; the tick then goes on as usual.
func (t *tick) resume() {
	i := slices.IndexFunc(t.st.Conditions, isSuspended)
	if i < 0 {
		return
	}
	t.st.Conditions = slices.Delete(t.st.Conditions, i, i+1)
	if len(t.st.Conditions) == 0 {
		t.st.Conditions = nil
	}
	t.normal(msgResumed)
}

func isSuspended(c v1beta1.CanaryCondition) bool { return c.Type == SuspendedType }

// syncFinalizer puts Finalizer on a canary with revertOnDeletion, as
// Flagger does, first in its tick, before anything that revertOnDeletion
// has to undo. Other canaries need none: what Serin creates for them is
// owned by the target too (pkg/owners), so that deleting the canary leaves
// it serving with no action of the operator, and such a canary, or its
// namespace, is deleted even while the operator is not running.
func (t *tick) syncFinalizer() {
	if t.cd.Spec.RevertOnDeletion && !hasFinalizer(t.cd) {
		t.act(AddFinalizer{})
	}
}

// dropFinalizer removes Finalizer from a canary without revertOnDeletion
// that carries it (an older Serin put it on every canary, to hand the
// canary's objects over to the target on deletion). It waits for a tick
// that reconciles the primary side and the routing, and comes after them:
// those give the objects the target's owner reference, and the controller
// stops at the first action that fails, so the finalizer goes only once the
// objects no longer need the hand-over.
func (t *tick) dropFinalizer() {
	if t.cd.Spec.RevertOnDeletion || !hasFinalizer(t.cd) {
		return
	}
	if slices.Contains(t.d.Actions, Action(EnsurePrimary{})) && slices.Contains(t.d.Actions, Action(ReconcileRouting{})) {
		t.act(RemoveFinalizer{})
	}
}

// terminate ends a deleted canary that carries the finalizer. Without
// revertOnDeletion it hands its objects over to the target (handOver). With
// it, Terminating scales the target back up and waits for it, Terminated
// hands the traffic back to it, and the tick after that releases the
// canary's objects from the target, so that garbage collection removes them
// with the canary, and removes the finalizer. Deletion wins over suspend,
// or a suspended canary could never be deleted. A deleted canary without
// the finalizer needs nothing: the garbage collector leaves its objects to
// the target.
//
// Unlike Flagger, a target that no longer exists does not hold the deletion
// (helm uninstall deletes both at once), and the first Terminating tick
// always waits, so a target still at zero replicas is never mistaken for a
// ready one. A target still scaling down to zero (a canary deleted right
// after it was initialized) is scaled back up only once its pods are gone.
func (t *tick) terminate() {
	t.d.Next = Next{}
	if !hasFinalizer(t.cd) {
		t.frozen = true
		return
	}
	if t.st.Phase == v1beta1.CanaryPhaseTerminated {
		t.act(ReleaseFromTarget{}, RemoveFinalizer{})
		return
	}
	if !t.cd.Spec.RevertOnDeletion {
		t.handOver()
		return
	}
	t.d.Next = Next{After: terminationPoll}
	if !t.releaseBaseline() {
		return
	}
	first := t.st.Phase != v1beta1.CanaryPhaseTerminating
	if first {
		t.st.Phase = v1beta1.CanaryPhaseTerminating
		t.normal(msgTerminating, canaryID(t.cd))
	}
	t.actOnAutoscaler(ResumeTargetAutoscaler{})
	if !t.obs.TargetMissing {
		if t.obs.Canary.Draining {
			// Scaled back up before its pods are gone, the target reports
			// ready on its ReplicaSet's stale status while the pods are
			// deleted, and the traffic would go to none.
			t.d.Reason = ReasonTargetNotReady
			t.d.Next.WhenReady = TargetWorkload
			if !first {
				t.warning("%s", t.obs.Canary.Message)
			}
			return
		}
		t.act(RestoreTarget{})
		if first || t.obs.Canary.State != Ready {
			t.d.Reason = ReasonTargetNotReady
			t.d.Next.WhenReady = TargetWorkload
			if !first && t.obs.Canary.Message != "" {
				t.warning("%s", t.obs.Canary.Message)
			}
			return
		}
		// Without a target there is nothing to hand the traffic back to,
		// and RevertRouting, which needs the target's selector, would fail
		// on every retry: the namespace controller deletes Deployments
		// before Canaries, so that hung namespace deletions.
		t.act(RevertRouting{})
	}
	t.st.Phase = v1beta1.CanaryPhaseTerminated
	t.normal(msgTerminated, canaryID(t.cd))
}

// handOver ends a canary deleted without revertOnDeletion that still
// carries the finalizer of an older Serin (dropFinalizer had no tick to
// remove it): the primary, its autoscaler and config copies, the Services
// and the route it created keep serving and are handed over to the target,
// so that garbage collection keeps them while the target exists and removes
// them with it; then the finalizer goes. A target that no longer exists gets
// nothing: the application is being removed as a whole, and everything
// goes.
//
// Unlike Flagger, where garbage collection removes all of them with the
// canary while the target is scaled to zero: an outage (#853, #388).
func (t *tick) handOver() {
	// Before the hand-over, which would give the target the baseline to keep.
	if !t.releaseBaseline() {
		t.d.Next = Next{After: terminationPoll}
		return
	}
	t.frozen = true
	if !t.obs.TargetMissing {
		t.act(HandOverToTarget{})
		t.normal(msgHandedOver, canaryID(t.cd), t.cd.Spec.TargetRef.Kind, targetID(t.cd))
	}
	t.act(RemoveFinalizer{})
}
