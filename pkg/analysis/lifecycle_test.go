package analysis

import (
	"testing"

	"github.com/stretchr/testify/assert"
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
		name:   "later ticks of a suspended canary are silent",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 1), suspended(2)), obs: observed(rev3, 70, 30),
		phase: v1beta1.CanaryPhaseProgressing, weight: 30, failedChecks: 1,
		reason: ReasonSuspended,
	}})
}

func TestSuspendWritesOnlyObservedGeneration(t *testing.T) {
	c := newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 1), suspended(1))
	d := step(c, observed(rev2, 70, 30), newChecks())
	want := c.Status.DeepCopy()
	want.ObservedGeneration = 2
	assert.Equal(t, *want, d.Status)

	c.Status = d.Status
	d = step(c, observed(rev2, 70, 30), newChecks())
	assert.Empty(t, d.Events)
	assert.Equal(t, c.Status, d.Status, "a quiet suspended tick writes nothing")
}

func TestStepFinalizer(t *testing.T) {
	revert := func(c *v1beta1.Canary) { c.Spec.RevertOnDeletion = true }
	stale := func(c *v1beta1.Canary) { c.Finalizers = []string{Finalizer} }
	runTransitions(t, []transition{{
		name:   "revertOnDeletion adds the finalizer",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), revert), obs: observed(rev1, 100, 0),
		phase: v1beta1.CanaryPhaseSucceeded, actions: actions(AddFinalizer{}, ensure, reconcile),
	}, {
		name:   "turning revertOnDeletion off removes the finalizer",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), stale), obs: observed(rev1, 100, 0),
		phase: v1beta1.CanaryPhaseSucceeded, actions: actions(RemoveFinalizer{}, ensure, reconcile),
	}, {
		name:   "a finalizer already in place is left alone",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), revertOnDeletion), obs: observed(rev1, 100, 0),
		phase: v1beta1.CanaryPhaseSucceeded, actions: actions(ensure, reconcile),
	}})
}

func TestStepDeletion(t *testing.T) {
	targetWaiting := observed(rev2, 100, 0)
	targetWaiting.Canary = Readiness{State: Waiting, Message: "deployment podinfo.test not ready: waiting for rollout to finish: 0 of 2 updated replicas are available"}
	targetMissing := Observations{TargetMissing: true}
	terminating := normal("Terminating canary podinfo.test")
	terminated := normal("Terminated canary podinfo.test")

	runTransitions(t, []transition{{
		name:   "a deleted canary without the finalizer needs nothing",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), deleted), obs: observed(rev1, 100, 0),
		phase: v1beta1.CanaryPhaseSucceeded,
	}, {
		name:   "a stale finalizer is removed when revertOnDeletion is off",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), deleted, func(c *v1beta1.Canary) { c.Finalizers = []string{Finalizer} }),
		obs:    observed(rev1, 100, 0),
		phase:  v1beta1.CanaryPhaseSucceeded, actions: actions(RemoveFinalizer{}),
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
		name:   "the tick after Terminated removes the finalizer alone",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseTerminated), revertOnDeletion, deleted), obs: observed(rev1, 100, 0),
		phase: v1beta1.CanaryPhaseTerminated, actions: actions(RemoveFinalizer{}),
	}, {
		name:   "a deleted target does not hold the deletion",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), revertOnDeletion, deleted), obs: targetMissing,
		phase: v1beta1.CanaryPhaseTerminated, actions: actions(RevertRouting{}),
		events: []string{terminating, terminated},
	}})
}

func TestDeletionRequeue(t *testing.T) {
	d := step(newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), deleted), observed(rev1, 100, 0), newChecks())
	assert.Zero(t, d.RequeueAfter, "nothing left to do")
	d = step(newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), revertOnDeletion, deleted), observed(rev1, 100, 0), newChecks())
	assert.Equal(t, v1beta1.MinAnalysisInterval, d.RequeueAfter, "the restored target is polled")
}
