package analysis

import "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"

// promoting makes sure the primary runs the analysed revision, waits for
// its rollout, then moves the traffic back to it: all at once, or
// stepWeightPromotion percent per tick. The primary's autoscaler is updated
// from the target's only now, as in Flagger, so autoscaler changes are
// released with a revision.
//
// The tick that entered Promoting wrote the phase before it copied the
// template (Decision.AfterStatus), so the copy is made here whenever the
// primary does not run the analysed revision yet: after a crash right after
// the status write, the copy is made once, never twice, and a primary that
// then fails takes the failed-promotion path, not the rollback one.
func (t *tick) promoting() {
	t.act(EnsurePrimary{}, ReconcileRouting{})
	if !t.passes(routesReadable, promotedCopy, primaryReady) {
		return
	}
	t.actOnAutoscaler(ReconcilePrimaryAutoscaler{})
	r := t.obs.Routes
	if r.Baseline > 0 {
		// The tick that promoted moved it; another writer put it back.
		r.Primary, r.Baseline = r.Primary+r.Baseline, 0
		t.act(SetRoutes{Primary: r.Primary, Canary: r.Canary})
	}
	t.dropBaseline(false)
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
// marks the promotion done. Scaling down before the status write is safe
// here: Finalising does not look at the canary's readiness.
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
//
// The route and the copy come before the status write (a resumed tick in
// Progressing decides the same promotion again), the target's scale-down
// after it: a target at zero in Progressing would be a canary that never
// becomes ready again, while Succeeded scales it down on every tick.
func (t *tick) promoteWithoutAnalysis() {
	t.act(SetRoutes{Primary: totalWeight})
	t.normal(msgCopying, targetID(t.cd), primaryID(t.cd))
	t.act(PromoteToPrimary{Revision: t.st.AppliedRevision()})
	t.actOnAutoscaler(ReconcilePrimaryAutoscaler{})
	t.retireTarget()
	t.succeed()
	t.normal(msgSkipped, targetID(t.cd))
	t.alert(v1beta1.SeverityInfo, "%s", alertSkipped)
}

// retireTarget scales the target down once the status says the run is over.
func (t *tick) retireTarget() {
	if t.cd.Spec.AutoscalerRef != nil {
		t.after(PauseTargetAutoscaler{})
	}
	t.after(ScaleTargetToZero{})
}

// succeed ends a run as promoted.
func (t *tick) succeed() {
	t.st.Phase = v1beta1.CanaryPhaseSucceeded
	t.st.LastPromotedSpec = t.st.LastAppliedSpec
	t.endRun()
	t.after(RunPostRolloutHooks{Phase: v1beta1.CanaryPhaseSucceeded})
}

// endRun clears the traffic counters of a run that no longer splits traffic.
// failedChecks is kept so that the status says how the run went.
func (t *tick) endRun() {
	t.st.CanaryWeight = 0
	t.st.Iterations = 0
}

// rollback routes all traffic back to the primary, marks the run Failed
// and then scales the canary down: the route first, so that every prefix of
// the step is safe (a resumed tick decides the same rollback), the
// scale-down only once Failed is written, since Failed scales the target
// down on every tick while an analysis phase would wait forever for a
// canary at zero replicas.
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
	t.retireTarget()
	t.dropBaseline(true)
	if t.st.Phase == v1beta1.CanaryPhaseWaiting {
		t.recordRevision()
	}
	t.st.Phase = v1beta1.CanaryPhaseFailed
	t.endRun()
	t.after(RunPostRolloutHooks{Phase: v1beta1.CanaryPhaseFailed})
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
	case ReasonJudgeFailed:
		t.warning(msgRollbackJudge, canaryID(t.cd), r.message)
		t.alert(v1beta1.SeverityError, alertRollbackJudge, r.message)
	case ReasonRequest:
		t.warning(msgAborted, canaryID(t.cd), r.message)
		t.alert(v1beta1.SeverityWarn, "%s", alertAborted)
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
	if t.obs.Canary.State == Ready {
		// Otherwise the route stays as it is until the canary is ready:
		// Failed with canaryWeight 100 then moves the traffic (settle).
		t.act(SetRoutes{Canary: totalWeight})
	}
	t.st.Phase = v1beta1.CanaryPhaseFailed
	t.st.CanaryWeight = totalWeight
	t.st.Iterations = 0
	t.conditionMessage = conditionPromotionFailed
	t.after(RunPostRolloutHooks{Phase: v1beta1.CanaryPhaseFailed})
}

// failedPromotion reports whether a Failed status is a failed promotion: the
// canary serves all the traffic and stays up (failPromotion).
func failedPromotion(st v1beta1.CanaryStatus) bool {
	return st.Phase == v1beta1.CanaryPhaseFailed && st.CanaryWeight == totalWeight
}
