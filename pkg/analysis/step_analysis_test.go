package analysis

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"

	"github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

const (
	canaryRolling  = "canary deployment podinfo.test not ready: waiting for rollout to finish: 1 out of 2 new replicas have been updated"
	canaryDeadline = "deployment \"podinfo\" exceeded its progress deadline"
	errorRateHalt  = "Halt podinfo.test advancement error-rate 69.17 > 1"
)

var (
	smokeTest = hook(v1beta1.PreRolloutHook, "smoke-test")
	loadTest  = hook("", "load-test")
)

// rolledBack and rolledBackAfter are the actions of a rollback from an
// analysis phase, before and after its status write: the target is scaled
// down only once the status says Failed.
var (
	rolledBack      = actions(ensure, reconcile, SetRoutes{Primary: 100})
	rolledBackAfter = actions(ScaleTargetToZero{}, RunPostRolloutHooks{Phase: v1beta1.CanaryPhaseFailed})
)

func TestStepAnalysisReadiness(t *testing.T) {
	canaryWaiting := observed(rev2, 100, 0)
	canaryWaiting.Canary = Readiness{State: Waiting, Message: canaryRolling}
	canaryFailed := observed(rev2, 80, 20)
	canaryFailed.Canary = Readiness{State: Failed, Message: canaryDeadline}
	primaryFailed := observed(rev2, 80, 20)
	primaryFailed.Primary = Readiness{State: Failed, Message: "deployment \"podinfo-primary\" exceeded its progress deadline"}
	primaryWaiting := observed(rev2, 80, 20)
	primaryWaiting.Primary = Readiness{State: Waiting, Message: primaryRolling}
	routeErr := observed(rev2, 80, 20)
	routeErr.Routes.Err = errors.New("HTTPRoute podinfo.test parent gateway is not ready")

	runTransitions(t, []transition{{
		name:   "a canary still rolling out holds the analysis",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 0, 0, 0)), obs: canaryWaiting,
		phase: v1beta1.CanaryPhaseProgressing, actions: actions(ensure, reconcile),
		events: []string{warning(canaryRolling)}, reason: ReasonCanaryNotReady,
	}, {
		name:   "a canary past its progress deadline is rolled back with an error alert",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 20, 0, 2)), obs: canaryFailed,
		phase: v1beta1.CanaryPhaseFailed, failedChecks: 2, actions: rolledBack, after: rolledBackAfter,
		events: []string{
			warning("Rolling back podinfo.test progress deadline exceeded " + canaryDeadline),
			warning("Canary failed! Scaling down podinfo.test"),
		},
		alerts: []string{"error: Progress deadline exceeded " + canaryDeadline},
		reason: ReasonProgressDeadlineExceeded, lastPromoted: rev1,
		conditionStatus: corev1.ConditionFalse, conditionMsgContains: "scaled to zero",
	}, {
		name:   "a primary that will not come up during the analysis rolls back",
		canary: newCanary(running(v1beta1.CanaryPhaseWaitingPromotion, 20, 0, 0)), obs: primaryFailed,
		phase: v1beta1.CanaryPhaseFailed, actions: rolledBack, after: rolledBackAfter,
		events: []string{
			warning("Rolling back podinfo.test progress deadline exceeded " + primaryFailed.Primary.Message),
			warning("Canary failed! Scaling down podinfo.test"),
		},
		alerts: []string{"error: Progress deadline exceeded " + primaryFailed.Primary.Message},
		reason: ReasonProgressDeadlineExceeded,
	}, {
		name:   "a primary not ready holds the analysis",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 20, 0, 0)), obs: primaryWaiting,
		phase: v1beta1.CanaryPhaseProgressing, weight: 20, actions: actions(ensure, reconcile),
		events: []string{warning(primaryRolling)}, reason: ReasonPrimaryNotReady,
	}, {
		name:   "a route not accepted holds the analysis",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 20, 0, 0)), obs: routeErr,
		phase: v1beta1.CanaryPhaseProgressing, weight: 20, actions: actions(ensure, reconcile),
		events: []string{warning("HTTPRoute podinfo.test parent gateway is not ready")}, reason: ReasonRouteNotReady,
	}})
}

func TestStepAnalysisRestart(t *testing.T) {
	restarted := []string{normal("New revision detected! Restarting analysis for podinfo.test")}
	configChanged := observed(rev2, 50, 50)
	configChanged.TrackedConfigs = map[string]string{"secret/podinfo-token": "b"}

	runTransitions(t, []transition{{
		name:   "a new template mid-run restarts the analysis",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 2)), obs: observed(rev3, 70, 30),
		phase: v1beta1.CanaryPhaseProgressing, actions: actions(ensure, reconcile, SetRoutes{Primary: 100}),
		events: restarted, reason: ReasonRevisionChanged, lastApplied: rev3, lastPromoted: rev1,
	}, {
		name:   "a changed Secret while waiting for promotion restarts the analysis",
		canary: newCanary(running(v1beta1.CanaryPhaseWaitingPromotion, 50, 0, 0)), obs: configChanged,
		phase: v1beta1.CanaryPhaseProgressing, actions: actions(ensure, reconcile, SetRoutes{Primary: 100}),
		events: restarted, reason: ReasonRevisionChanged,
	}, {
		name:   "a revert to the promoted template mid-run restarts the analysis",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 0)), obs: observed(rev1, 70, 30),
		phase: v1beta1.CanaryPhaseProgressing, actions: actions(ensure, reconcile, SetRoutes{Primary: 100}),
		events: restarted, reason: ReasonRevisionChanged, lastApplied: rev1,
	}})
}

func TestStepAnalysisChecks(t *testing.T) {
	seed := func(phase v1beta1.CanaryPhase, weight, failed int) *v1beta1.Canary {
		return newCanary(running(phase, weight, 0, failed), withHooks(smokeTest, loadTest), withMetrics(metric("error-rate")))
	}
	started := normal("Starting canary analysis for podinfo.test")

	runTransitions(t, []transition{{
		name:   "the first tick runs the pre-rollout hooks then takes the first step",
		canary: seed(v1beta1.CanaryPhaseProgressing, 0, 0), obs: observed(rev2, 100, 0),
		phase: v1beta1.CanaryPhaseProgressing, weight: 10,
		actions: actions(ensure, reconcile, SetRoutes{Primary: 90, Canary: 10}),
		events:  []string{started, normal("Pre-rollout check smoke-test passed"), normal("Advance podinfo.test canary weight 10")},
	}, {
		name:   "a failed pre-rollout hook counts and holds the weight",
		canary: seed(v1beta1.CanaryPhaseProgressing, 0, 0), obs: observed(rev2, 100, 0),
		checks: newChecks().failHook("smoke-test", "exit status 1"),
		phase:  v1beta1.CanaryPhaseProgressing, failedChecks: 1, actions: actions(ensure, reconcile),
		events: []string{started, warning("Halt podinfo.test advancement pre-rollout check smoke-test failed exit status 1")},
	}, {
		name:   "a failed rollout hook counts",
		canary: seed(v1beta1.CanaryPhaseProgressing, 10, 1), obs: observed(rev2, 90, 10),
		checks: newChecks().failHook("load-test", "context deadline exceeded"),
		phase:  v1beta1.CanaryPhaseProgressing, weight: 10, failedChecks: 2, actions: actions(ensure, reconcile),
		events: []string{warning("Halt podinfo.test advancement external check load-test failed context deadline exceeded")},
	}, {
		name:   "a failed metric counts with the provider's text",
		canary: seed(v1beta1.CanaryPhaseProgressing, 10, 0), obs: observed(rev2, 90, 10),
		checks: newChecks().failMetric("error-rate", errorRateHalt),
		phase:  v1beta1.CanaryPhaseProgressing, weight: 10, failedChecks: 1, actions: actions(ensure, reconcile),
		events: []string{warning(errorRateHalt)},
	}, {
		name:   "the failure that reaches the threshold does not roll back yet",
		canary: seed(v1beta1.CanaryPhaseProgressing, 20, 4), obs: observed(rev2, 80, 20),
		checks: newChecks().failMetric("error-rate", errorRateHalt),
		phase:  v1beta1.CanaryPhaseProgressing, weight: 20, failedChecks: 5, actions: actions(ensure, reconcile),
		events: []string{warning(errorRateHalt)},
	}, {
		name:   "the tick after the threshold was reached rolls back and keeps failedChecks",
		canary: seed(v1beta1.CanaryPhaseProgressing, 20, 5), obs: observed(rev2, 80, 20),
		phase: v1beta1.CanaryPhaseFailed, failedChecks: 5, actions: rolledBack, after: rolledBackAfter,
		events: []string{
			warning("Rolling back podinfo.test failed checks threshold reached 5"),
			warning("Canary failed! Scaling down podinfo.test"),
		},
		alerts: []string{"error: Failed checks threshold reached 5"},
		reason: ReasonFailedChecksThreshold,
	}, {
		name:   "failed checks add up across passing ticks",
		canary: seed(v1beta1.CanaryPhaseProgressing, 20, 3), obs: observed(rev2, 80, 20),
		phase: v1beta1.CanaryPhaseProgressing, weight: 30, failedChecks: 3,
		actions: actions(ensure, reconcile, SetRoutes{Primary: 70, Canary: 30}),
		events:  []string{normal("Advance podinfo.test canary weight 30")},
	}})
}

func TestStepAnalysisRunsChecksInOrder(t *testing.T) {
	c := newCanary(running(v1beta1.CanaryPhaseProgressing, 10, 0, 0), withHooks(smokeTest, loadTest),
		withMetrics(metric("error-rate"), v1beta1.CanaryMetric{Name: "request-success-rate"}))
	checks := newChecks()
	step(c, observed(rev2, 90, 10), checks)
	assert.Equal(t, []string{"hook load-test Progressing", "metric request-success-rate", "metric error-rate"}, checks.calls)

	checks = newChecks()
	step(newCanary(running(v1beta1.CanaryPhaseProgressing, 20, 0, 5), withHooks(loadTest)), observed(rev2, 80, 20), checks)
	assert.Empty(t, checks.calls, "a rollback runs no checks")
}

func TestStepManualRollback(t *testing.T) {
	abort := hook(v1beta1.RollbackHook, "abort")
	runTransitions(t, []transition{{
		name:   "a rollback hook answering 2xx rolls the run back",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 20, 0, 0), withHooks(abort)), obs: observed(rev2, 80, 20),
		phase: v1beta1.CanaryPhaseFailed, actions: rolledBack, after: rolledBackAfter,
		events: []string{
			warning("Rollback check abort passed"),
			warning("Rolling back podinfo.test manual webhook invoked"),
			warning("Canary failed! Scaling down podinfo.test"),
		},
		alerts: []string{"warn: Rolling back manual webhook invoked"},
		reason: ReasonManualRollback,
	}, {
		name:   "a rollback hook not signaling lets the analysis go on",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 20, 0, 0), withHooks(abort)), obs: observed(rev2, 80, 20),
		checks: newChecks().failHook("abort", "Forbidden"),
		phase:  v1beta1.CanaryPhaseProgressing, weight: 30,
		actions: actions(ensure, reconcile, SetRoutes{Primary: 70, Canary: 30}),
		events:  []string{normal("Rollback hook abort not signaling a rollback"), normal("Advance podinfo.test canary weight 30")},
	}})
}

func TestStepGates(t *testing.T) {
	trafficGate := hook(v1beta1.ConfirmTrafficIncreaseHook, "traffic-gate")
	promotionGate := hook(v1beta1.ConfirmPromotionHook, "promotion-gate")
	trafficClosed := func() *fakeChecks { return newChecks().failHook("traffic-gate", "Forbidden") }
	promotionClosed := func() *fakeChecks { return newChecks().failHook("promotion-gate", "Forbidden") }
	copying := normal("Copying podinfo.test template spec to podinfo-primary.test")
	waitingPromotion := warning("Halt podinfo.test advancement waiting for promotion approval promotion-gate")

	runTransitions(t, []transition{{
		name:   "a closed traffic gate holds the weight and alerts",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 20, 0, 0), withHooks(trafficGate)), obs: observed(rev2, 80, 20),
		checks: trafficClosed(),
		phase:  v1beta1.CanaryPhaseProgressing, weight: 20, actions: actions(ensure, reconcile),
		events: []string{warning("Halt podinfo.test advancement waiting for traffic increase approval traffic-gate")},
		alerts: []string{"warn: Canary traffic increase is waiting for approval."},
	}, {
		name:   "an open traffic gate lets the weight increase",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 20, 0, 0), withHooks(trafficGate)), obs: observed(rev2, 80, 20),
		phase: v1beta1.CanaryPhaseProgressing, weight: 30,
		actions: actions(ensure, reconcile, SetRoutes{Primary: 70, Canary: 30}),
		events:  []string{normal("Confirm-traffic-increase check traffic-gate passed"), normal("Advance podinfo.test canary weight 30")},
	}, {
		name:   "max weight promotes without asking the traffic gate",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 50, 0, 0), withHooks(trafficGate)), obs: observed(rev2, 50, 50),
		checks: trafficClosed(),
		phase:  v1beta1.CanaryPhasePromoting, weight: 50,
		actions:         actions(ensure, reconcile),
		after:           actions(PromoteToPrimary{Revision: rev2}),
		events:          []string{copying},
		conditionStatus: corev1.ConditionUnknown, conditionMsgContains: "starting primary rolling update",
	}, {
		name:   "a closed promotion gate waits for promotion with the real weight",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 50, 0, 0), withHooks(promotionGate)), obs: observed(rev2, 50, 50),
		checks: promotionClosed(),
		phase:  v1beta1.CanaryPhaseWaitingPromotion, weight: 50, actions: actions(ensure, reconcile),
		events:          []string{waitingPromotion},
		alerts:          []string{"warn: Canary promotion is waiting for approval."},
		conditionStatus: corev1.ConditionUnknown, conditionMsgContains: "Waiting for approval.",
	}, {
		name:   "WaitingPromotion keeps analysing and alerts only once",
		canary: newCanary(running(v1beta1.CanaryPhaseWaitingPromotion, 50, 0, 0), withHooks(promotionGate)), obs: observed(rev2, 50, 50),
		checks: promotionClosed(),
		phase:  v1beta1.CanaryPhaseWaitingPromotion, weight: 50, actions: actions(ensure, reconcile),
		events: []string{waitingPromotion},
	}, {
		name:   "a failed metric counts while waiting for promotion",
		canary: newCanary(running(v1beta1.CanaryPhaseWaitingPromotion, 50, 0, 1), withHooks(promotionGate), withMetrics(metric("error-rate"))),
		obs:    observed(rev2, 50, 50),
		checks: promotionClosed().failMetric("error-rate", errorRateHalt),
		phase:  v1beta1.CanaryPhaseWaitingPromotion, weight: 50, failedChecks: 2, actions: actions(ensure, reconcile),
		events: []string{warning(errorRateHalt)},
	}, {
		name:   "the threshold rolls back a canary waiting for promotion",
		canary: newCanary(running(v1beta1.CanaryPhaseWaitingPromotion, 50, 0, 5), withHooks(promotionGate)), obs: observed(rev2, 50, 50),
		phase: v1beta1.CanaryPhaseFailed, failedChecks: 5, actions: rolledBack, after: rolledBackAfter,
		events: []string{
			warning("Rolling back podinfo.test failed checks threshold reached 5"),
			warning("Canary failed! Scaling down podinfo.test"),
		},
		alerts: []string{"error: Failed checks threshold reached 5"},
		reason: ReasonFailedChecksThreshold,
	}, {
		name:   "an opened promotion gate promotes",
		canary: newCanary(running(v1beta1.CanaryPhaseWaitingPromotion, 50, 0, 0), withHooks(promotionGate)), obs: observed(rev2, 50, 50),
		phase: v1beta1.CanaryPhasePromoting, weight: 50,
		actions: actions(ensure, reconcile),
		after:   actions(PromoteToPrimary{Revision: rev2}),
		events:  []string{normal("Confirm-promotion check promotion-gate passed"), copying},
	}})
}

func TestStepSkipAnalysis(t *testing.T) {
	skip := withSpec(func(s *v1beta1.CanarySpec) { s.SkipAnalysis = true })
	noAnalysis := withSpec(func(s *v1beta1.CanarySpec) { s.Analysis = nil })
	canaryWaiting := observed(rev2, 100, 0)
	canaryWaiting.Canary = Readiness{State: Waiting, Message: canaryRolling}
	promoted := []string{
		normal("Copying podinfo.test template spec to podinfo-primary.test"),
		normal("Promotion completed! Canary analysis was skipped for podinfo.test"),
	}
	succeeded := RunPostRolloutHooks{Phase: v1beta1.CanaryPhaseSucceeded}

	runTransitions(t, []transition{{
		name:   "a ready canary is promoted straight away",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 0, 0, 0), skip), obs: observed(rev2, 100, 0),
		phase:   v1beta1.CanaryPhaseSucceeded,
		actions: actions(ensure, reconcile, SetRoutes{Primary: 100}, PromoteToPrimary{Revision: rev2}),
		after:   actions(ScaleTargetToZero{}, succeeded),
		events:  promoted, alerts: []string{"info: Canary analysis was skipped, promotion finished."},
		lastPromoted: rev2, conditionStatus: corev1.ConditionTrue, conditionMsgContains: "promotion finished",
	}, {
		name:   "no analysis block at all skips the analysis, with the autoscaler reconciled",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 0, 0, 0), noAnalysis, withAutoscaler()), obs: observed(rev2, 100, 0),
		phase:   v1beta1.CanaryPhaseSucceeded,
		actions: actions(ensure, reconcile, SetRoutes{Primary: 100}, PromoteToPrimary{Revision: rev2}, ReconcilePrimaryAutoscaler{}),
		after:   actions(PauseTargetAutoscaler{}, ScaleTargetToZero{}, succeeded),
		events:  promoted, alerts: []string{"info: Canary analysis was skipped, promotion finished."},
	}, {
		name:   "the canary is still awaited",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 0, 0, 0), skip), obs: canaryWaiting,
		phase: v1beta1.CanaryPhaseProgressing, actions: actions(ensure, reconcile),
		events: []string{warning(canaryRolling)}, reason: ReasonCanaryNotReady,
	}})
}
