package analysis

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// TestStepResumes covers the states an interrupted step leaves behind: each
// must lead to the step the uninterrupted one would have taken.
func TestStepResumes(t *testing.T) {
	failedPromotion := withStatus(func(s *v1beta1.CanaryStatus) {
		s.Phase = v1beta1.CanaryPhaseFailed
		s.CanaryWeight = 100
		s.LastAppliedSpec = rev2
		s.LastPromotedSpec = rev1
	})
	noSteps := withAnalysis(func(a *v1beta1.CanaryAnalysis) { a.StepWeight = 0; a.StepWeights = []int{0} })

	runTransitions(t, []transition{{
		name:   "Failed, written before the route was moved back, finishes the rollback",
		canary: newCanary(running(v1beta1.CanaryPhaseFailed, 0, 0, 5)), obs: observed(rev2, 70, 30),
		phase: v1beta1.CanaryPhaseFailed, failedChecks: 5,
		actions: actions(ensure, reconcile, SetRoutes{Primary: 100}, toZero),
	}, {
		name:    "a mirror left on an idle route is removed",
		canary:  newCanary(idleIn(v1beta1.CanaryPhaseSucceeded)),
		obs:     func() Observations { o := observed(rev1, 100, 0); o.Routes.Mirrored = true; return o }(),
		phase:   v1beta1.CanaryPhaseSucceeded,
		actions: actions(ensure, reconcile, SetRoutes{Primary: 100}, toZero),
	}, {
		name:    "an unreadable route is left to ReconcileRouting",
		canary:  newCanary(idleIn(v1beta1.CanaryPhaseSucceeded)),
		obs:     func() Observations { o := observed(rev1, 0, 0); o.Routes.Err = assert.AnError; return o }(),
		phase:   v1beta1.CanaryPhaseSucceeded,
		actions: actions(ensure, reconcile, toZero),
	}, {
		name:   "a failed promotion keeps the canary serving and up",
		canary: newCanary(failedPromotion), obs: observed(rev2, 0, 100),
		phase: v1beta1.CanaryPhaseFailed, weight: 100,
		actions: actions(ensure, reconcile),
	}, {
		name:   "a failed promotion's route changed by someone else is put back on the canary",
		canary: newCanary(failedPromotion), obs: observed(rev2, 100, 0),
		phase: v1beta1.CanaryPhaseFailed, weight: 100,
		actions: actions(ensure, reconcile, SetRoutes{Canary: 100}),
	}, {
		name:   "a new revision after a failed promotion starts from the primary, with its pre-rollout hooks to come",
		canary: newCanary(failedPromotion), obs: observed(rev3, 0, 100),
		phase:       v1beta1.CanaryPhaseProgressing,
		actions:     actions(ensure, reconcile, SetRoutes{Primary: 100}, ScaleTargetFromZero{}),
		events:      []string{normal("New revision detected! Scaling up podinfo.test")},
		alerts:      []string{"info: New revision detected, progressing canary analysis."},
		lastApplied: rev3,
	}, {
		name:   "a canary that cannot step is held, not promoted",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 0, 0, 0), noSteps), obs: observed(rev2, 100, 0),
		phase:   v1beta1.CanaryPhaseProgressing,
		actions: actions(ensure, reconcile),
		events:  []string{warning("Halt podinfo.test advancement: spec.analysis.stepWeight or spec.analysis.stepWeights must give the canary a weight above 0")},
		reason:  ReasonNoSteps,
	}})
}

// TestFailedRevisionReappliedRunsAgain: a failed revision, reverted to the
// promoted one and re-applied, is analysed again, as in Flagger.
func TestFailedRevisionReappliedRunsAgain(t *testing.T) {
	cd := newCanary(running(v1beta1.CanaryPhaseFailed, 0, 0, 5))
	d := step(cd, observed(rev1, 100, 0), newChecks())
	assert.Equal(t, rev1, d.Status.LastAppliedSpec, "the revert is recorded")

	cd.Status = d.Status
	d = step(cd, observed(rev2, 100, 0), newChecks())
	assert.Equal(t, v1beta1.CanaryPhaseProgressing, d.Status.Phase)
	assert.Equal(t, rev2, d.Status.LastAppliedSpec)
	assert.Contains(t, d.Actions, Action(ScaleTargetFromZero{}))
}

func TestRoutesAsShares(t *testing.T) {
	for _, tc := range []struct{ in, want Routes }{
		{Routes{Primary: 90, Canary: 10}, Routes{Primary: 90, Canary: 10}},
		{Routes{Primary: 1, Canary: 3}, Routes{Primary: 25, Canary: 75}},
		{Routes{Primary: -10, Canary: 150}, Routes{Primary: 0, Canary: 100}},
		{Routes{Primary: 0, Canary: 0}, Routes{Primary: 0, Canary: 0}},
		{Routes{Primary: 2, Canary: 1, Mirrored: true}, Routes{Primary: 67, Canary: 33, Mirrored: true}},
	} {
		assert.Equal(t, tc.want, asShares(tc.in), "%+v", tc.in)
	}
}

// TestFailedPromotionWaitsForAReadyCanary: a promotion whose primary fails
// while the canary is not ready either moves no traffic to the canary; the
// idle tick does once it is ready.
func TestFailedPromotionWaitsForAReadyCanary(t *testing.T) {
	obs := observed(rev2, 50, 50)
	obs.PrimaryRevision = rev2
	obs.Primary = Readiness{State: Failed, Message: "deployment \"podinfo-primary\" exceeded its progress deadline"}
	obs.Canary = Readiness{State: Waiting, Message: canaryRolling}
	d := step(newCanary(running(v1beta1.CanaryPhasePromoting, 50, 0, 0)), obs, newChecks())
	assert.Equal(t, v1beta1.CanaryPhaseFailed, d.Status.Phase)
	assert.Equal(t, 100, d.Status.CanaryWeight)
	assert.NotContains(t, d.Actions, Action(SetRoutes{Canary: 100}))

	cd := newCanary()
	cd.Status = d.Status
	d = step(cd, obs, newChecks())
	assert.NotContains(t, d.Actions, Action(SetRoutes{Canary: 100}), "not while the canary is not ready")
	obs.Canary = Readiness{State: Ready}
	d = step(cd, obs, newChecks())
	assert.Contains(t, d.Actions, Action(SetRoutes{Canary: 100}))
	assert.NotContains(t, d.Actions, Action(ScaleTargetToZero{}), "the canary keeps serving")
}

// TestStepRouteOwned: the run's weight is its own. Another writer's weight
// is put back with an event; the weight of a step whose status write was
// interrupted (the next step) is not drift.
func TestStepRouteOwned(t *testing.T) {
	runTransitions(t, []transition{{
		name:   "weights changed by another writer are restored, with an event",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 20, 0, 0)), obs: observed(rev2, 45, 55),
		phase: v1beta1.CanaryPhaseProgressing, weight: 20,
		actions: actions(ensure, reconcile, SetRoutes{Primary: 80, Canary: 20}),
		events:  []string{warning("HTTPRoute podinfo.test weights changed by another writer to 45/55: restoring 80/20")},
		reason:  ReasonRouteDrift,
	}, {
		name:   "a route rebuilt at 100/0 after its backend was removed goes back to the run's weight",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 20, 0, 0)), obs: observed(rev2, 100, 0),
		phase: v1beta1.CanaryPhaseProgressing, weight: 20,
		actions: actions(ensure, reconcile, SetRoutes{Primary: 80, Canary: 20}),
		events:  []string{warning("HTTPRoute podinfo.test weights changed by another writer to 100/0: restoring 80/20")},
		reason:  ReasonRouteDrift,
	}, {
		name:   "the next step's weight, whose status write was lost, goes on from there",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 20, 0, 0)), obs: observed(rev2, 70, 30),
		phase: v1beta1.CanaryPhaseProgressing, weight: 40,
		actions: actions(ensure, reconcile, SetRoutes{Primary: 60, Canary: 40}),
		events:  []string{normal("Advance podinfo.test canary weight 40")},
	}})
}
