package analysis

import (
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

const primaryRolling = "podinfo-primary.test not ready: waiting for rollout to finish: 0 of 1 (readyThreshold 100%) updated replicas are available"

func TestStepInitialization(t *testing.T) {
	primaryWaiting := observed(rev1, 0, 0)
	primaryWaiting.Primary = Readiness{State: Waiting, Message: primaryRolling}
	primaryFailed := observed(rev1, 0, 0)
	primaryFailed.Primary = Readiness{State: Failed, Message: "deployment \"podinfo-primary\" exceeded its progress deadline"}
	routeMissing := observed(rev1, 0, 0)
	routeMissing.Routes.Err = errors.New("HTTPRoute podinfo.test not found")
	initialized := []string{normal("Initialization done! podinfo.test")}
	initAlert := []string{"info: New Deployment detected, initialization completed."}

	runTransitions(t, []transition{{
		name:   "first sight with a ready primary initializes",
		canary: newCanary(), obs: routeMissing,
		phase:   v1beta1.CanaryPhaseInitialized,
		actions: actions(ensure, reconcile, ScaleTargetToZero{}),
		events:  initialized, alerts: initAlert,
		lastApplied: rev1, lastPromoted: rev1,
		conditionStatus: corev1.ConditionTrue, conditionMsgContains: "Deployment initialization completed.",
	}, {
		name:   "an autoscaled target has its autoscaler paused",
		canary: newCanary(withAutoscaler()), obs: observed(rev1, 0, 0),
		phase:   v1beta1.CanaryPhaseInitialized,
		actions: actions(ensure, PauseTargetAutoscaler{}, reconcile, ScaleTargetToZero{}),
		events:  initialized, alerts: initAlert,
	}, {
		name:   "a primary still rolling out holds the initialization",
		canary: newCanary(), obs: primaryWaiting,
		phase:           v1beta1.CanaryPhaseInitializing,
		actions:         actions(ensure),
		events:          []string{warning(primaryRolling)},
		reason:          ReasonPrimaryNotReady,
		conditionStatus: corev1.ConditionUnknown, conditionMsgContains: "New Deployment detected, starting initialization.",
	}, {
		name:   "a failed primary leaves the target serving instead of rolling back",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseInitializing)), obs: primaryFailed,
		phase:   v1beta1.CanaryPhaseInitializing,
		actions: actions(ensure),
		events:  []string{warning(primaryFailed.Primary.Message)},
		reason:  ReasonPrimaryNotReady,
	}, {
		name:   "skipAnalysis waits for the primary too before routing to it",
		canary: newCanary(withSpec(func(s *v1beta1.CanarySpec) { s.SkipAnalysis = true })), obs: primaryWaiting,
		phase:   v1beta1.CanaryPhaseInitializing,
		actions: actions(ensure),
		events:  []string{warning(primaryWaiting.Primary.Message)},
		reason:  ReasonPrimaryNotReady,
	}, {
		name:   "metric providers are probed when the canary is first seen",
		canary: newCanary(withMetrics(metric("error-rate"))), obs: observed(rev1, 0, 0),
		phase:   v1beta1.CanaryPhaseInitialized,
		actions: actions(ensure, reconcile, ScaleTargetToZero{}),
		events:  []string{normal("all the metrics providers are available!"), initialized[0]},
		alerts:  initAlert,
	}, {
		name:   "an unreachable metric provider is reported and does not block",
		canary: newCanary(withMetrics(metric("error-rate"))), obs: observed(rev1, 0, 0),
		checks:  &fakeChecks{probe: errors.New("prometheus unreachable")},
		phase:   v1beta1.CanaryPhaseInitialized,
		actions: actions(ensure, reconcile, ScaleTargetToZero{}),
		events:  []string{warning("Error checking metric providers: prometheus unreachable"), initialized[0]},
		alerts:  initAlert,
	}, {
		name:   "metric providers are not probed again while initializing",
		canary: newCanary(withMetrics(metric("error-rate")), idleIn(v1beta1.CanaryPhaseInitializing)), obs: primaryWaiting,
		phase:   v1beta1.CanaryPhaseInitializing,
		actions: actions(ensure),
		events:  []string{warning(primaryRolling)},
		reason:  ReasonPrimaryNotReady,
	}, {
		name:   "a missing target is reported and nothing is done",
		canary: newCanary(), obs: Observations{TargetMissing: true},
		phase:  "",
		events: []string{warning("Deployment podinfo.test not found")},
		reason: ReasonTargetNotFound,
	}})
}

func TestStepNewRevision(t *testing.T) {
	scalingUp := []string{normal("New revision detected! Scaling up podinfo.test")}
	newRevAlert := []string{"info: New revision detected, progressing canary analysis."}
	configs := func(sum string) canaryOption {
		return withStatus(func(s *v1beta1.CanaryStatus) { s.TrackedConfigs = &map[string]string{"configmap/podinfo-config": sum} })
	}
	configChanged := observed(rev1, 100, 0)
	configChanged.TrackedConfigs = map[string]string{"configmap/podinfo-config": "b"}
	primaryWaiting := observed(rev2, 100, 0)
	primaryWaiting.Primary = Readiness{State: Waiting, Message: primaryRolling}
	routeNotAccepted := observed(rev2, 100, 0)
	routeNotAccepted.Routes.Err = errors.New("HTTPRoute podinfo.test parent gateway is not ready (status: False, observed generation: 3, current generation: 4)")

	runTransitions(t, []transition{{
		name:   "an unchanged target keeps the canary idle",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseSucceeded)), obs: observed(rev1, 100, 0),
		phase: v1beta1.CanaryPhaseSucceeded, actions: actions(ensure, reconcile, toZero),
	}, {
		name:   "a new pod template scales the canary up",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseSucceeded)), obs: observed(rev2, 100, 0),
		phase:   v1beta1.CanaryPhaseProgressing,
		actions: actions(ensure, reconcile, ScaleTargetFromZero{}),
		events:  scalingUp, alerts: newRevAlert,
		lastApplied: rev2, lastPromoted: rev1,
		conditionStatus: corev1.ConditionUnknown, conditionMsgContains: "New revision detected, progressing canary analysis.",
	}, {
		name:   "a changed ConfigMap is a new revision",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseInitialized), configs("a")), obs: configChanged,
		phase:   v1beta1.CanaryPhaseProgressing,
		actions: actions(ensure, reconcile, ScaleTargetFromZero{}),
		events:  scalingUp, alerts: newRevAlert,
	}, {
		name:   "a target reverted to the promoted template is not a new revision, and is recorded",
		canary: newCanary(running(v1beta1.CanaryPhaseFailed, 0, 0, 5)), obs: observed(rev1, 100, 0),
		phase: v1beta1.CanaryPhaseFailed, failedChecks: 5, actions: actions(ensure, reconcile, toZero),
		lastApplied: rev1, lastPromoted: rev1,
	}, {
		name:   "the failed revision is not retried",
		canary: newCanary(running(v1beta1.CanaryPhaseFailed, 0, 0, 5)), obs: observed(rev2, 100, 0),
		phase: v1beta1.CanaryPhaseFailed, failedChecks: 5, actions: actions(ensure, reconcile, toZero),
	}, {
		name:   "a newer revision after a failure starts a fresh run",
		canary: newCanary(running(v1beta1.CanaryPhaseFailed, 0, 0, 5)), obs: observed(rev3, 100, 0),
		phase:   v1beta1.CanaryPhaseProgressing,
		actions: actions(ensure, reconcile, ScaleTargetFromZero{}),
		events:  scalingUp, alerts: newRevAlert, lastApplied: rev3,
	}, {
		name:   "a new revision waits for the primary",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseSucceeded)), obs: primaryWaiting,
		phase:   v1beta1.CanaryPhaseSucceeded,
		actions: actions(ensure, reconcile),
		events:  []string{warning(primaryRolling)},
		reason:  ReasonPrimaryNotReady, lastApplied: rev1,
	}, {
		name:   "a new revision waits for the route to be accepted",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseSucceeded)), obs: routeNotAccepted,
		phase:   v1beta1.CanaryPhaseSucceeded,
		actions: actions(ensure, reconcile),
		events:  []string{warning(routeNotAccepted.Routes.Err.Error())},
		reason:  ReasonRouteNotReady, lastApplied: rev1,
	}, {
		name:   "an autoscaled target has its autoscaler resumed before scaling up",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), withAutoscaler()), obs: observed(rev2, 100, 0),
		phase:   v1beta1.CanaryPhaseProgressing,
		actions: actions(ensure, reconcile, ResumeTargetAutoscaler{}, ScaleTargetFromZero{}),
		events:  scalingUp, alerts: newRevAlert,
	}})
}

func TestStepConfirmRollout(t *testing.T) {
	gate := hook(v1beta1.ConfirmRolloutHook, "gate")
	muted := gate
	muted.MuteAlert = true
	abort := hook(v1beta1.RollbackHook, "abort")
	closed := func() *fakeChecks { return newChecks().failHook("gate", "Forbidden") }

	runTransitions(t, []transition{{
		name:   "a closed gate moves a new revision to Waiting once",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), withHooks(gate)), obs: observed(rev2, 100, 0),
		checks:          closed(),
		phase:           v1beta1.CanaryPhaseWaiting,
		actions:         actions(ensure, reconcile),
		events:          []string{warning("Halt podinfo.test advancement waiting for approval gate")},
		alerts:          []string{"warn: Canary is waiting for approval."},
		lastApplied:     rev1,
		conditionStatus: corev1.ConditionUnknown, conditionMsgContains: "Waiting for approval.",
	}, {
		name:   "a muted gate sends no alert",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), withHooks(muted)), obs: observed(rev2, 100, 0),
		checks:  closed(),
		phase:   v1beta1.CanaryPhaseWaiting,
		actions: actions(ensure, reconcile),
		events:  []string{warning("Halt podinfo.test advancement waiting for approval gate")},
	}, {
		name:   "a gate still closed keeps Waiting quiet",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseWaiting), withHooks(gate)), obs: observed(rev2, 100, 0),
		checks:  closed(),
		phase:   v1beta1.CanaryPhaseWaiting,
		actions: actions(ensure, reconcile),
	}, {
		name:   "an opened gate scales the canary up",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseWaiting), withHooks(gate)), obs: observed(rev2, 100, 0),
		phase:       v1beta1.CanaryPhaseProgressing,
		actions:     actions(ensure, reconcile, ScaleTargetFromZero{}),
		events:      []string{normal("Confirm-rollout check gate passed"), normal("New revision detected! Scaling up podinfo.test")},
		alerts:      []string{"info: New revision detected, progressing canary analysis."},
		lastApplied: rev2,
	}, {
		name:   "a rollback hook rejects a waiting revision",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseWaiting), withHooks(gate, abort)), obs: observed(rev2, 100, 0),
		checks:  closed(),
		phase:   v1beta1.CanaryPhaseFailed,
		actions: actions(ensure, reconcile, SetRoutes{Primary: 100}),
		after:   actions(ScaleTargetToZero{}, RunPostRolloutHooks{Phase: v1beta1.CanaryPhaseFailed}),
		events: []string{
			warning("Rollback check abort passed"),
			warning("Rolling back podinfo.test manual webhook invoked"),
			warning("Canary failed! Scaling down podinfo.test"),
		},
		alerts:      []string{"warn: Rolling back manual webhook invoked"},
		reason:      ReasonManualRollback,
		lastApplied: rev2, lastPromoted: rev1,
		conditionStatus: corev1.ConditionFalse, conditionMsgContains: "Canary analysis failed, Deployment scaled to zero.",
	}, {
		name:   "a rollback hook not signaling leaves the revision waiting",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseWaiting), withHooks(gate, abort)), obs: observed(rev2, 100, 0),
		checks:  closed().failHook("abort", "Forbidden"),
		phase:   v1beta1.CanaryPhaseWaiting,
		actions: actions(ensure, reconcile),
		events:  []string{normal("Rollback hook abort not signaling a rollback")},
	}})
}
