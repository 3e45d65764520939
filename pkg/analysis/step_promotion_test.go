package analysis

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

func TestStepPromoting(t *testing.T) {
	promotionStep := withAnalysis(func(a *v1beta1.CanaryAnalysis) { a.StepWeightPromotion = 20 })
	// copied observes a primary that already runs the analysed revision.
	copied := func(hash string, primary, canary int) Observations {
		o := observed(hash, primary, canary)
		o.PrimaryRevision = rev2
		return o
	}
	notCopied := observed(rev2, 50, 50)
	notCopied.PrimaryRevision = rev1
	pushed := observed(rev3, 50, 50)
	pushed.PrimaryRevision = rev1
	pushedAfterCopy := copied(rev3, 50, 50)
	primaryWaiting := copied(rev2, 50, 50)
	primaryWaiting.Primary = Readiness{State: Waiting, Message: primaryRolling}
	primaryFailed := copied(rev2, 50, 50)
	primaryFailed.Primary = Readiness{State: Failed, Message: "deployment \"podinfo-primary\" exceeded its progress deadline"}
	canaryFailed := copied(rev2, 50, 50)
	canaryFailed.Canary = Readiness{State: Failed, Message: canaryDeadline}
	failedPromotion := transition{
		phase: v1beta1.CanaryPhaseFailed, weight: 100,
		actions:         actions(ensure, reconcile, SetRoutes{Canary: 100}),
		after:           actions(RunPostRolloutHooks{Phase: v1beta1.CanaryPhaseFailed}),
		events:          []string{warning("Promotion of podinfo.test failed, primary not ready: " + primaryFailed.Primary.Message)},
		alerts:          []string{"error: Promotion failed, primary not ready: " + primaryFailed.Primary.Message},
		reason:          ReasonPrimaryFailed,
		conditionStatus: corev1.ConditionFalse, conditionMsgContains: "all traffic routed to the canary",
	}
	fromPromoting, fromFinalising := failedPromotion, failedPromotion
	fromPromoting.name = "a promoted primary that will not come up keeps serving from the canary"
	fromPromoting.canary, fromPromoting.obs = newCanary(running(v1beta1.CanaryPhasePromoting, 50, 0, 0)), primaryFailed
	fromFinalising.name = "so does one that fails while finalising"
	fromFinalising.canary, fromFinalising.obs = newCanary(running(v1beta1.CanaryPhaseFinalising, 0, 0, 0)), primaryFailed

	runTransitions(t, []transition{{
		name:   "the analysed revision is copied to the primary, and its rollout awaited",
		canary: newCanary(running(v1beta1.CanaryPhasePromoting, 50, 0, 0)), obs: notCopied,
		phase: v1beta1.CanaryPhasePromoting, weight: 50,
		actions: actions(ensure, reconcile, PromoteToPrimary{Revision: rev2}),
		reason:  ReasonPromotionCopy,
	}, {
		name:   "a target changed before the copy starts the analysis over",
		canary: newCanary(running(v1beta1.CanaryPhasePromoting, 50, 0, 0)), obs: pushed,
		phase:   v1beta1.CanaryPhaseProgressing,
		actions: actions(ensure, reconcile, SetRoutes{Primary: 100}),
		events:  []string{normal("New revision detected! Restarting analysis for podinfo.test")},
		reason:  ReasonRevisionChanged, lastApplied: rev3,
	}, {
		name:   "a target changed after the copy does not stop the promotion",
		canary: newCanary(running(v1beta1.CanaryPhasePromoting, 50, 0, 0)), obs: pushedAfterCopy,
		phase:   v1beta1.CanaryPhaseFinalising,
		actions: actions(ensure, reconcile, SetRoutes{Primary: 100}),
		events:  []string{normal("Routing all traffic to primary")},
	}, {
		name:   "the primary's rollout is awaited",
		canary: newCanary(running(v1beta1.CanaryPhasePromoting, 50, 0, 0)), obs: primaryWaiting,
		phase: v1beta1.CanaryPhasePromoting, weight: 50, actions: actions(ensure, reconcile),
		events: []string{warning(primaryRolling)}, reason: ReasonPrimaryNotReady,
	}, {
		name:   "a ready primary gets all the traffic back at once",
		canary: newCanary(running(v1beta1.CanaryPhasePromoting, 50, 0, 0)), obs: copied(rev2, 50, 50),
		phase:           v1beta1.CanaryPhaseFinalising,
		actions:         actions(ensure, reconcile, SetRoutes{Primary: 100}),
		events:          []string{normal("Routing all traffic to primary")},
		conditionStatus: corev1.ConditionUnknown, conditionMsgContains: "routing all traffic to primary",
	}, {
		name:   "the primary's autoscaler is updated while promoting",
		canary: newCanary(running(v1beta1.CanaryPhasePromoting, 50, 0, 0), withAutoscaler()), obs: copied(rev2, 50, 50),
		phase:   v1beta1.CanaryPhaseFinalising,
		actions: actions(ensure, reconcile, ReconcilePrimaryAutoscaler{}, SetRoutes{Primary: 100}),
		events:  []string{normal("Routing all traffic to primary")},
	}, {
		name:   "a stepped promotion moves stepWeightPromotion per tick",
		canary: newCanary(running(v1beta1.CanaryPhasePromoting, 50, 0, 0), promotionStep), obs: copied(rev2, 50, 50),
		phase: v1beta1.CanaryPhasePromoting, weight: 30,
		actions: actions(ensure, reconcile, SetRoutes{Primary: 70, Canary: 30}),
		events:  []string{normal("Advance podinfo.test primary weight 70")},
	}, {
		name:   "the last promotion step finalises",
		canary: newCanary(running(v1beta1.CanaryPhasePromoting, 10, 0, 0), promotionStep), obs: copied(rev2, 90, 10),
		phase:   v1beta1.CanaryPhaseFinalising,
		actions: actions(ensure, reconcile, SetRoutes{Primary: 100}),
		events:  []string{normal("Advance podinfo.test primary weight 100")},
	}, {
		name:   "a stepped promotion with no canary traffic finalises",
		canary: newCanary(running(v1beta1.CanaryPhasePromoting, 0, 0, 0), promotionStep), obs: copied(rev2, 100, 0),
		phase:   v1beta1.CanaryPhaseFinalising,
		actions: actions(ensure, reconcile, SetRoutes{Primary: 100}),
		events:  []string{normal("Routing all traffic to primary")},
	}, {
		name:   "a failing canary does not stop a promotion under way",
		canary: newCanary(running(v1beta1.CanaryPhasePromoting, 50, 0, 0)), obs: canaryFailed,
		phase:   v1beta1.CanaryPhaseFinalising,
		actions: actions(ensure, reconcile, SetRoutes{Primary: 100}),
		events:  []string{normal("Routing all traffic to primary")},
	}, fromPromoting, fromFinalising})
}

func TestStepFinalising(t *testing.T) {
	succeeded := RunPostRolloutHooks{Phase: v1beta1.CanaryPhaseSucceeded}
	done := []string{normal("Promotion completed! Scaling down podinfo.test")}
	doneAlert := []string{"info: Canary analysis completed successfully, promotion finished."}
	runTransitions(t, []transition{{
		name:   "finalising scales the canary down and succeeds, keeping failedChecks",
		canary: newCanary(running(v1beta1.CanaryPhaseFinalising, 0, 0, 1)), obs: observed(rev2, 100, 0),
		phase: v1beta1.CanaryPhaseSucceeded, failedChecks: 1,
		actions: actions(ensure, reconcile, ScaleTargetToZero{}),
		after:   actions(succeeded),
		events:  done, alerts: doneAlert,
		lastApplied: rev2, lastPromoted: rev2,
		conditionStatus: corev1.ConditionTrue, conditionMsgContains: "Canary analysis completed successfully, promotion finished.",
	}, {
		name:   "an autoscaled target has its autoscaler paused",
		canary: newCanary(running(v1beta1.CanaryPhaseFinalising, 0, 0, 0), withAutoscaler()), obs: observed(rev2, 100, 0),
		phase:   v1beta1.CanaryPhaseSucceeded,
		actions: actions(ensure, reconcile, PauseTargetAutoscaler{}, ScaleTargetToZero{}),
		after:   actions(succeeded),
		events:  done, alerts: doneAlert,
	}})
}
