package analysis

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

func TestStepMirrorPreStage(t *testing.T) {
	mirror := withAnalysis(func(a *v1beta1.CanaryAnalysis) { a.Mirror = true })
	trafficGate := hook(v1beta1.ConfirmTrafficIncreaseHook, "traffic-gate")

	runTransitions(t, []transition{{
		name:   "the first step of a mirrored canary mirrors without traffic",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 0, 0, 0), mirror, withHooks(trafficGate)),
		obs:    observed(rev2, 100, 0),
		checks: newChecks().failHook("traffic-gate", "Forbidden"),
		phase:  v1beta1.CanaryPhaseProgressing, iterations: 1,
		actions: actions(ensure, reconcile, SetRoutes{Primary: 100, Mirrored: true}),
		events:  []string{normal("Starting canary analysis for podinfo.test"), normal("Advance podinfo.test canary weight 0")},
	}, {
		name:   "the next step shifts traffic even when the route does not report the mirror",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 0, 1, 0), mirror), obs: observed(rev2, 100, 0),
		phase: v1beta1.CanaryPhaseProgressing, weight: 10, iterations: 1,
		actions: actions(ensure, reconcile, SetRoutes{Primary: 90, Canary: 10}),
		events:  []string{normal("Advance podinfo.test canary weight 10")},
	}, {
		name:   "the first real traffic asks the traffic gate",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 0, 1, 0), mirror, withHooks(trafficGate)),
		obs:    Observations{TargetHash: rev2, Primary: Readiness{State: Ready}, Canary: Readiness{State: Ready}, Routes: Routes{Primary: 100, Mirrored: true}},
		checks: newChecks().failHook("traffic-gate", "Forbidden"),
		phase:  v1beta1.CanaryPhaseProgressing, iterations: 1, actions: actions(ensure, reconcile),
		events: []string{warning("Halt podinfo.test advancement waiting for traffic increase approval traffic-gate")},
		alerts: []string{"warn: Canary traffic increase is waiting for approval."},
	}})
}

func TestStepABTesting(t *testing.T) {
	ab := withAnalysis(func(a *v1beta1.CanaryAnalysis) {
		a.StepWeight, a.MaxWeight, a.Iterations = 0, 0, 10
		a.Match = []v1beta1.HTTPMatchRequest{{Headers: map[string]v1beta1.StringMatch{"x-canary": {Exact: "insider"}}}}
	})
	runTransitions(t, []transition{{
		name:   "the first iteration routes the matched requests to the canary",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 0, 0, 0), ab), obs: observed(rev2, 100, 0),
		phase: v1beta1.CanaryPhaseProgressing, iterations: 1,
		actions: actions(ensure, reconcile, SetRoutes{Canary: 100}),
		events:  []string{normal("Starting canary analysis for podinfo.test"), normal("Advance podinfo.test canary iteration 1/10")},
	}, {
		name:   "later iterations count after the checks",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 0, 4, 0), ab), obs: observed(rev2, 0, 100),
		phase: v1beta1.CanaryPhaseProgressing, iterations: 5,
		actions: actions(ensure, reconcile, SetRoutes{Canary: 100}),
		events:  []string{normal("Advance podinfo.test canary iteration 5/10")},
	}, {
		name:   "the last iteration done promotes",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 0, 10, 0), ab), obs: observed(rev2, 0, 100),
		phase: v1beta1.CanaryPhasePromoting, iterations: 10,
		actions: actions(ensure, reconcile),
		after:   actions(PromoteToPrimary{Revision: rev2}),
		events:  []string{normal("Copying podinfo.test template spec to podinfo-primary.test")},
	}})
}

func TestStepBlueGreen(t *testing.T) {
	bg := withAnalysis(func(a *v1beta1.CanaryAnalysis) { a.StepWeight, a.MaxWeight, a.Iterations = 0, 0, 10 })
	mirror := withAnalysis(func(a *v1beta1.CanaryAnalysis) { a.Mirror = true })
	promotionGate := hook(v1beta1.ConfirmPromotionHook, "promotion-gate")
	mirrored := observed(rev2, 100, 0)
	mirrored.Routes.Mirrored = true

	runTransitions(t, []transition{{
		name:   "an iteration sends no user traffic to the canary",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 0, 3, 0), bg), obs: observed(rev2, 100, 0),
		phase: v1beta1.CanaryPhaseProgressing, iterations: 4, actions: actions(ensure, reconcile),
		events: []string{normal("Advance podinfo.test canary iteration 4/10")},
	}, {
		name:   "mirroring starts when the route does not mirror yet",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 0, 0, 0), bg, mirror), obs: observed(rev2, 100, 0),
		phase: v1beta1.CanaryPhaseProgressing, iterations: 1,
		actions: actions(ensure, reconcile, SetRoutes{Primary: 100, Mirrored: true}),
		events:  []string{normal("Starting canary analysis for podinfo.test"), normal("Advance podinfo.test canary iteration 1/10")},
	}, {
		name:   "an established mirror is left alone",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 0, 1, 0), bg, mirror), obs: mirrored,
		phase: v1beta1.CanaryPhaseProgressing, iterations: 2, actions: actions(ensure, reconcile),
		events: []string{normal("Advance podinfo.test canary iteration 2/10")},
	}, {
		name:   "after the last iteration all traffic switches to the canary for one tick",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 0, 10, 0), bg), obs: observed(rev2, 100, 0),
		phase: v1beta1.CanaryPhaseProgressing, weight: 100, iterations: 11,
		actions: actions(ensure, reconcile, SetRoutes{Canary: 100}),
		events:  []string{normal("Routing all traffic to canary")},
	}, {
		name:   "a mirrored switch stops the mirror",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 0, 10, 0), bg, mirror), obs: mirrored,
		phase: v1beta1.CanaryPhaseProgressing, weight: 100, iterations: 11,
		actions: actions(ensure, reconcile, SetRoutes{Canary: 100}),
		events:  []string{normal("Stop traffic mirroring and route all traffic to canary")},
	}, {
		name:   "the tick after the switch promotes",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 100, 11, 0), bg), obs: observed(rev2, 0, 100),
		phase: v1beta1.CanaryPhasePromoting, weight: 100, iterations: 11,
		actions: actions(ensure, reconcile),
		after:   actions(PromoteToPrimary{Revision: rev2}),
		events:  []string{normal("Copying podinfo.test template spec to podinfo-primary.test")},
	}, {
		name:   "a closed promotion gate holds the switch",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 0, 10, 0), bg, withHooks(promotionGate)), obs: observed(rev2, 100, 0),
		checks: newChecks().failHook("promotion-gate", "Forbidden"),
		phase:  v1beta1.CanaryPhaseWaitingPromotion, iterations: 10, actions: actions(ensure, reconcile),
		events: []string{warning("Halt podinfo.test advancement waiting for promotion approval promotion-gate")},
		alerts: []string{"warn: Canary promotion is waiting for approval."},
	}})
}

// TestEventSubjects pins which events name the canary and which the target,
// as Flagger does, with a canary named differently from its target.
func TestEventSubjects(t *testing.T) {
	named := func(c *v1beta1.Canary) { c.Name = "podinfo-release" }
	d := step(newCanary(named, running(v1beta1.CanaryPhaseProgressing, 0, 0, 0)), observed(rev2, 100, 0), newChecks())
	assert.Equal(t, []string{
		normal("Starting canary analysis for podinfo.test"),
		normal("Advance podinfo-release.test canary weight 10"),
	}, texts(d.Events))

	d = step(newCanary(named, running(v1beta1.CanaryPhaseProgressing, 50, 0, 0)), observed(rev2, 50, 50), newChecks())
	assert.Equal(t, []string{normal("Copying podinfo.test template spec to podinfo-primary.test")}, texts(d.Events))

	d = step(newCanary(named, running(v1beta1.CanaryPhaseProgressing, 20, 0, 5)), observed(rev2, 80, 20), newChecks())
	assert.Equal(t, []string{
		warning("Rolling back podinfo-release.test failed checks threshold reached 5"),
		warning("Canary failed! Scaling down podinfo-release.test"),
	}, texts(d.Events))
}
