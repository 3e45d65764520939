package analysis

import "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"

// suspend freezes the canary: nothing is reconciled and the weights stay as
// they are.
//
// Unlike Flagger, which records "skipping canary run as object is suspended"
// on every tick, the event is recorded once per observed spec generation: the
// tick that first sees suspend (or a later edit of a suspended canary) finds
// status.observedGeneration behind metadata.generation, and the status
// written by that tick catches it up. No in-memory state is needed, so a
// restart of the controller does not repeat the event either.
func (t *tick) suspend() {
	t.frozen = true
	t.d.Reason = ReasonSuspended
	if t.st.ObservedGeneration != t.cd.Generation {
		t.normal(msgSuspended)
	}
}

// syncFinalizer keeps Finalizer in line with spec.revertOnDeletion.
func (t *tick) syncFinalizer() {
	has := hasFinalizer(t.cd)
	switch {
	case t.cd.Spec.RevertOnDeletion && !has:
		t.act(AddFinalizer{})
	case !t.cd.Spec.RevertOnDeletion && has:
		t.act(RemoveFinalizer{})
	}
}

// terminate reverts a deleted canary with revertOnDeletion: Terminating
// scales the target back up and waits for it, Terminated hands the traffic
// back to it, and the tick after that removes the finalizer. Deletion wins
// over suspend, or a suspended canary could never be deleted.
//
// Unlike Flagger, a target that no longer exists does not hold the deletion
// (helm uninstall deletes both at once), and the first Terminating tick
// always waits, so a target still at zero replicas is never mistaken for a
// ready one.
func (t *tick) terminate() {
	t.d.RequeueAfter = 0
	if !hasFinalizer(t.cd) {
		t.frozen = true
		return
	}
	if !t.cd.Spec.RevertOnDeletion || t.st.Phase == v1beta1.CanaryPhaseTerminated {
		t.act(RemoveFinalizer{})
		return
	}
	t.d.RequeueAfter = terminationPoll
	first := t.st.Phase != v1beta1.CanaryPhaseTerminating
	if first {
		t.st.Phase = v1beta1.CanaryPhaseTerminating
		t.normal(msgTerminating, canaryID(t.cd))
	}
	t.actOnAutoscaler(ResumeTargetAutoscaler{})
	if !t.obs.TargetMissing {
		t.act(RestoreTarget{})
		if first || t.obs.Canary.State != Ready {
			t.d.Reason = ReasonTargetNotReady
			if !first && t.obs.Canary.Message != "" {
				t.warning("%s", t.obs.Canary.Message)
			}
			return
		}
	}
	t.act(RevertRouting{})
	t.st.Phase = v1beta1.CanaryPhaseTerminated
	t.normal(msgTerminated, canaryID(t.cd))
}
