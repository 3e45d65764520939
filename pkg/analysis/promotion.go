package analysis

import "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"

// promoting waits for the primary's rollout of the promoted template, then
// moves the traffic back to it: all at once, or stepWeightPromotion percent
// per tick. The primary's autoscaler is updated from the target's only now,
// as in Flagger, so autoscaler changes are released with a revision.
func (t *tick) promoting() {
	t.act(EnsurePrimary{}, ReconcileRouting{})
	if !t.passes(primaryReady, routesReadable) {
		return
	}
	t.actOnAutoscaler(ReconcilePrimaryAutoscaler{})
	r := t.obs.Routes
	step := t.an.StepWeightPromotion
	if step > 0 && r.Canary > 0 {
		primary, canary := promotionStep(r, step)
		t.act(SetRoutes{Primary: primary, Canary: canary})
		t.normal(msgAdvancePrimary, canaryID(t.cd), primary)
		t.st.CanaryWeight = canary
		if canary > 0 {
			return
		}
	} else {
		// Unlike Flagger, a stepped promotion whose canary weight is
		// already 0 finishes instead of waiting in Promoting forever.
		t.normal(msgAllToPrimary)
		t.act(SetRoutes{Primary: totalWeight})
	}
	t.st.Phase = v1beta1.CanaryPhaseFinalising
	t.endRun()
}

// finalising scales the canary down once all traffic is on the primary and
// marks the promotion done.
func (t *tick) finalising() {
	t.act(EnsurePrimary{}, ReconcileRouting{})
	if !t.passes(primaryReady, routesReadable) {
		return
	}
	t.actOnAutoscaler(PauseTargetAutoscaler{})
	t.act(ScaleTargetToZero{})
	t.succeed()
	t.normal(msgSucceeded, targetID(t.cd))
	t.alert(v1beta1.SeverityInfo, "%s", alertSucceeded)
}

// promoteWithoutAnalysis promotes a ready canary straight away when analysis
// is skipped. The primary's readiness is not awaited: Flagger documents the
// short window of downtime as intended.
func (t *tick) promoteWithoutAnalysis() {
	t.act(SetRoutes{Primary: totalWeight})
	t.normal(msgCopying, targetID(t.cd), primaryID(t.cd))
	t.act(PromoteToPrimary{})
	t.actOnAutoscaler(ReconcilePrimaryAutoscaler{})
	t.actOnAutoscaler(PauseTargetAutoscaler{})
	t.act(ScaleTargetToZero{})
	t.succeed()
	t.normal(msgSkipped, targetID(t.cd))
	t.alert(v1beta1.SeverityInfo, "%s", alertSkipped)
}

// succeed ends a run as promoted.
func (t *tick) succeed() {
	t.st.Phase = v1beta1.CanaryPhaseSucceeded
	t.st.LastPromotedSpec = t.st.LastAppliedSpec
	t.endRun()
	t.act(RunPostRolloutHooks{Phase: v1beta1.CanaryPhaseSucceeded})
}

// endRun clears the traffic counters of a run that no longer splits traffic.
// failedChecks is kept so that the status says how the run went.
func (t *tick) endRun() {
	t.st.CanaryWeight = 0
	t.st.Iterations = 0
}

// rollback routes all traffic back to the primary, scales the canary down
// and marks the run Failed.
//
// Unlike Flagger, a rollback for a workload that will not become ready sends
// the "progress deadline exceeded" event and error alert (dead code in
// Flagger), and failedChecks keeps its value on Failed so users see why the
// run failed. Rolled back from Waiting, the refused revision is recorded so
// that it is not offered again.
func (t *tick) rollback(r result) {
	t.announceRollback(r)
	t.act(SetRoutes{Primary: totalWeight})
	t.warning(msgFailed, canaryID(t.cd))
	t.actOnAutoscaler(PauseTargetAutoscaler{})
	t.act(ScaleTargetToZero{})
	if t.st.Phase == v1beta1.CanaryPhaseWaiting {
		t.recordRevision()
	}
	t.st.Phase = v1beta1.CanaryPhaseFailed
	t.endRun()
	t.act(RunPostRolloutHooks{Phase: v1beta1.CanaryPhaseFailed})
}

// announceRollback sends the event and alert of the rollback's reason.
func (t *tick) announceRollback(r result) {
	switch r.reason {
	case ReasonFailedChecksThreshold:
		t.warning(msgRollbackThreshold, canaryID(t.cd), t.st.FailedChecks)
		t.alert(v1beta1.SeverityError, alertThreshold, t.st.FailedChecks)
	case ReasonProgressDeadlineExceeded:
		t.warning(msgRollbackDeadline, canaryID(t.cd), r.message)
		t.alert(v1beta1.SeverityError, alertDeadline, r.message)
	case ReasonManualRollback:
		t.warning(msgRollbackManual, canaryID(t.cd))
		t.alert(v1beta1.SeverityWarn, "%s", alertRollbackManual)
	}
}

// failPromotion keeps serving from the canary when the promoted primary will
// not come up (Flagger 1.44, #1931): all traffic to the canary, phase Failed
// with canaryWeight 100, and the canary left running.
//
// Unlike Flagger, the Promoted condition says so instead of claiming the
// target was scaled to zero.
func (t *tick) failPromotion(msg string) {
	t.warning(msgPromotionFailed, canaryID(t.cd), msg)
	t.alert(v1beta1.SeverityError, alertPromotionFailed, msg)
	t.act(SetRoutes{Canary: totalWeight})
	t.st.Phase = v1beta1.CanaryPhaseFailed
	t.st.CanaryWeight = totalWeight
	t.st.Iterations = 0
	t.conditionMessage = conditionPromotionFailed
	t.act(RunPostRolloutHooks{Phase: v1beta1.CanaryPhaseFailed})
}
