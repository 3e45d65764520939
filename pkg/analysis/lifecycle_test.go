package analysis

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

func suspended(observedGeneration int64) canaryOption {
	return func(c *v1beta1.Canary) {
		c.Spec.Suspend = true
		c.Generation = 2
		c.Status.ObservedGeneration = observedGeneration
	}
}

// suspendedCondition is the condition a suspended canary's first tick adds.
func suspendedCondition() v1beta1.CanaryCondition {
	now := metav1.NewTime(t0)
	return v1beta1.CanaryCondition{
		Type: SuspendedType, Status: corev1.ConditionTrue, LastUpdateTime: now, LastTransitionTime: now,
		Reason: ReasonSuspended, Message: conditionSuspended,
	}
}

func withSuspendedCondition(c *v1beta1.Canary) {
	c.Status.Conditions = append(c.Status.Conditions, suspendedCondition())
}

func revertOnDeletion(c *v1beta1.Canary) {
	c.Spec.RevertOnDeletion = true
	c.Finalizers = []string{Finalizer}
}

func deleted(c *v1beta1.Canary) {
	now := metav1.NewTime(t0)
	c.DeletionTimestamp = &now
}

func TestStepSuspend(t *testing.T) {
	runTransitions(t, []transition{{
		name:   "the tick that sees suspend records one event and freezes the run",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 1), suspended(1)), obs: observed(rev3, 70, 30),
		phase: v1beta1.CanaryPhaseProgressing, weight: 30, failedChecks: 1,
		events: []string{normal("skipping canary run as object is suspended")},
		reason: ReasonSuspended, lastApplied: rev2,
	}, {
		name:   "later ticks of a suspended canary are silent, edited or not",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 1), suspended(1), withSuspendedCondition), obs: observed(rev3, 70, 30),
		phase: v1beta1.CanaryPhaseProgressing, weight: 30, failedChecks: 1,
		reason: ReasonSuspended,
	}, {
		name:   "the tick after the resume records one event and goes on",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 1), withSuspendedCondition), obs: observed(rev2, 70, 30),
		phase: v1beta1.CanaryPhaseProgressing, weight: 40, failedChecks: 1,
		actions: actions(ensure, reconcile, SetRoutes{Primary: 60, Canary: 40}),
		events:  []string{normal("resuming canary run as object is no longer suspended"), normal("Advance podinfo.test canary weight 40")},
	}})
}

func TestSuspendFreezesTheStatus(t *testing.T) {
	c := newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 1), suspended(1))
	d := step(c, observed(rev2, 70, 30), newChecks())
	want := c.Status.DeepCopy()
	want.ObservedGeneration = 2
	want.Conditions = append(want.Conditions, suspendedCondition())
	assert.Equal(t, *want, d.Status, "only observedGeneration and the Suspended condition")

	c.Status = d.Status
	d = step(c, observed(rev2, 70, 30), newChecks())
	assert.Empty(t, d.Events)
	assert.Equal(t, c.Status, d.Status, "a quiet suspended tick writes nothing")

	c.Spec.Suspend = false
	d = step(c, observed(rev2, 70, 30), newChecks())
	for _, cond := range d.Status.Conditions {
		assert.NotEqual(t, SuspendedType, cond.Type, "the condition goes on resume")
	}
}

func withoutFinalizer(c *v1beta1.Canary) { c.Finalizers = nil }

// withOldFinalizer is a canary without revertOnDeletion that an older Serin
// gave the finalizer, as it did to every canary.
func withOldFinalizer(c *v1beta1.Canary) { c.Finalizers = []string{Finalizer} }

func TestStepFinalizer(t *testing.T) {
	primaryWaiting := observed(rev1, 0, 0)
	primaryWaiting.Primary = Readiness{State: Waiting, Message: "waiting for rollout to finish"}
	runTransitions(t, []transition{{
		name:   "a canary without revertOnDeletion gets no finalizer",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseSucceeded)), obs: observed(rev1, 100, 0),
		phase: v1beta1.CanaryPhaseSucceeded, actions: actions(ensure, reconcile, toZero),
	}, {
		name:   "revertOnDeletion adds the finalizer before anything else",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), revertOnDeletion, withoutFinalizer), obs: observed(rev1, 100, 0),
		phase: v1beta1.CanaryPhaseSucceeded, actions: actions(AddFinalizer{}, ensure, reconcile, toZero),
	}, {
		name:   "so does a first tick, before the primary is created",
		canary: newCanary(revertOnDeletion, withoutFinalizer), obs: primaryWaiting,
		phase: v1beta1.CanaryPhaseInitializing, actions: actions(AddFinalizer{}, ensure),
		events: []string{warning("waiting for rollout to finish")}, reason: ReasonPrimaryNotReady,
		conditionStatus: corev1.ConditionUnknown,
	}, {
		name:   "the finalizer of revertOnDeletion in place is left alone",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), revertOnDeletion), obs: observed(rev1, 100, 0),
		phase: v1beta1.CanaryPhaseSucceeded, actions: actions(ensure, reconcile, toZero),
	}, {
		name:   "an older Serin's finalizer goes last, once the objects are reconciled with the target as owner",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), withOldFinalizer), obs: observed(rev1, 100, 0),
		phase: v1beta1.CanaryPhaseSucceeded, actions: actions(ensure, reconcile, toZero, RemoveFinalizer{}),
	}, {
		name:   "so it goes during a run too",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 0), withOldFinalizer), obs: observed(rev2, 70, 30),
		phase: v1beta1.CanaryPhaseProgressing, weight: 40,
		actions: actions(ensure, reconcile, SetRoutes{Primary: 60, Canary: 40}, RemoveFinalizer{}),
		events:  []string{normal("Advance podinfo.test canary weight 40")},
	}, {
		name:   "a tick that does not reconcile the routing keeps it",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseInitializing), withOldFinalizer), obs: primaryWaiting,
		phase: v1beta1.CanaryPhaseInitializing, actions: actions(ensure),
		events: []string{warning("waiting for rollout to finish")}, reason: ReasonPrimaryNotReady,
	}, {
		name:   "a suspended canary keeps it",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), withOldFinalizer, suspended(1)), obs: observed(rev1, 100, 0),
		phase: v1beta1.CanaryPhaseSucceeded, events: []string{normal("skipping canary run as object is suspended")},
		reason: ReasonSuspended,
	}})
}

func TestStepDeletion(t *testing.T) {
	targetWaiting := observed(rev2, 100, 0)
	targetWaiting.Canary = Readiness{State: Waiting, Message: "deployment podinfo.test not ready: waiting for rollout to finish: 0 of 2 updated replicas are available"}
	targetDraining := observed(rev1, 100, 0)
	targetDraining.Canary = Readiness{State: Waiting, Draining: true,
		Message: "canary deployment podinfo.test not ready: scaling down to zero, 2 replicas left"}
	targetMissing := Observations{TargetMissing: true}
	terminating := normal("Terminating canary podinfo.test")
	terminated := normal("Terminated canary podinfo.test")

	handedOver := normal("Canary podinfo.test deleted without revertOnDeletion: its primary and routing are handed over to Deployment podinfo.test")

	runTransitions(t, []transition{{
		name:   "a deleted canary without the finalizer needs nothing",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), deleted, withoutFinalizer), obs: observed(rev1, 100, 0),
		phase: v1beta1.CanaryPhaseSucceeded,
	}, {
		name:   "an older Serin's finalizer still there hands the objects over to the target, then goes",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 0), withOldFinalizer, deleted), obs: observed(rev2, 70, 30),
		phase: v1beta1.CanaryPhaseProgressing, weight: 30,
		actions: actions(HandOverToTarget{}, RemoveFinalizer{}), events: []string{handedOver},
	}, {
		name:   "without revertOnDeletion and without a target, everything goes",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), withOldFinalizer, deleted), obs: targetMissing,
		phase: v1beta1.CanaryPhaseSucceeded, actions: actions(RemoveFinalizer{}),
	}, {
		name:   "the first tick restores the target and always waits for it",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 0), revertOnDeletion, deleted), obs: observed(rev2, 70, 30),
		phase: v1beta1.CanaryPhaseTerminating, weight: 30,
		actions: actions(RestoreTarget{}),
		events:  []string{terminating}, reason: ReasonTargetNotReady,
	}, {
		name:    "deletion wins over suspend, and an autoscaler is resumed",
		canary:  newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), revertOnDeletion, deleted, suspended(2), withAutoscaler()),
		obs:     observed(rev1, 100, 0),
		phase:   v1beta1.CanaryPhaseTerminating,
		actions: actions(ResumeTargetAutoscaler{}, RestoreTarget{}),
		events:  []string{terminating}, reason: ReasonTargetNotReady,
	}, {
		name:   "a target still scaling down to zero (deleted right after initialization) is not scaled back up yet",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseInitialized), revertOnDeletion, deleted), obs: targetDraining,
		phase:  v1beta1.CanaryPhaseTerminating,
		events: []string{terminating}, reason: ReasonTargetNotReady,
	}, {
		name:   "nor on the ticks after, until its pods are gone",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseTerminating), revertOnDeletion, deleted), obs: targetDraining,
		phase:  v1beta1.CanaryPhaseTerminating,
		events: []string{warning(targetDraining.Canary.Message)}, reason: ReasonTargetNotReady,
	}, {
		name:   "a target still rolling out is awaited",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseTerminating), revertOnDeletion, deleted), obs: targetWaiting,
		phase: v1beta1.CanaryPhaseTerminating, actions: actions(RestoreTarget{}),
		events: []string{warning(targetWaiting.Canary.Message)}, reason: ReasonTargetNotReady,
	}, {
		name:   "a ready target gets the traffic back",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseTerminating), revertOnDeletion, deleted), obs: observed(rev1, 100, 0),
		phase: v1beta1.CanaryPhaseTerminated, actions: actions(RestoreTarget{}, RevertRouting{}),
		events: []string{terminated},
	}, {
		name:   "the tick after Terminated releases the objects from the target, for garbage collection, and removes the finalizer",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseTerminated), revertOnDeletion, deleted), obs: observed(rev1, 100, 0),
		phase: v1beta1.CanaryPhaseTerminated, actions: actions(ReleaseFromTarget{}, RemoveFinalizer{}),
	}, {
		name:   "a deleted target does not hold the deletion, and leaves no routing to revert",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), revertOnDeletion, deleted), obs: targetMissing,
		phase:  v1beta1.CanaryPhaseTerminated,
		events: []string{terminating, terminated},
	}})
}

func waitingTarget() Observations {
	obs := observed(rev1, 100, 0)
	obs.Canary = Readiness{State: Waiting, Message: "waiting for rollout to finish"}
	return obs
}

func TestDeletionRequeue(t *testing.T) {
	d := step(newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), deleted), observed(rev1, 100, 0), newChecks())
	assert.Zero(t, d.Next.After, "nothing left to do")
	d = step(newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), withOldFinalizer, deleted), observed(rev1, 100, 0), newChecks())
	assert.Zero(t, d.Next.After, "handed over at once")
	d = step(newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), revertOnDeletion, deleted), observed(rev1, 100, 0), newChecks())
	assert.Equal(t, Next{After: v1beta1.MinAnalysisInterval, WhenReady: TargetWorkload}, d.Next,
		"the restored target is polled, and its readiness wakes the canary")
	d = step(newCanary(idleIn(v1beta1.CanaryPhaseTerminating), revertOnDeletion, deleted), waitingTarget(), newChecks())
	assert.Equal(t, Next{After: v1beta1.MinAnalysisInterval, WhenReady: TargetWorkload}, d.Next, "on every tick that waits")
}
