package analysis

import (
	"fmt"
	"maps"

	"github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// initialize bootstraps a canary seen for the first time ("" or
// Initializing): it creates the primary side, and once the primary is ready
// (not awaited when analysis is skipped) points the apex Service and route at
// it, scales the target to zero and records the revision as promoted.
func (t *tick) initialize() {
	t.probeMetricProviders()
	t.st.Phase = v1beta1.CanaryPhaseInitializing
	t.act(EnsurePrimary{})
	if !t.passes(primaryReady) {
		return
	}
	t.actOnAutoscaler(PauseTargetAutoscaler{})
	t.act(ReconcileRouting{}, ScaleTargetToZero{})
	t.startRun()
	t.st.Phase = v1beta1.CanaryPhaseInitialized
	t.st.LastPromotedSpec = t.st.LastAppliedSpec
	t.normal(msgInitialized, canaryID(t.cd))
	t.alertWithFields(v1beta1.SeverityInfo, fmt.Sprintf(alertInitialized, t.cd.Spec.TargetRef.Kind))
}

// idle keeps the objects reconciled between runs (Initialized, Succeeded,
// Failed), starts a run when the target has a new revision, and otherwise
// settles what the phase promises.
//
// Unlike Flagger, a Failed canary does not re-record the target's hash on
// every tick: the failed revision is still not retried (its hash was recorded
// when its run started), and a change first seen on a tick that cannot go on
// (primary not ready, route not accepted) is no longer silently absorbed. A
// target reverted to the promoted revision is recorded, though (see
// recordRevert), so that re-applying the failed revision runs it again, as in
// Flagger.
func (t *tick) idle() {
	t.act(EnsurePrimary{}, ReconcileRouting{})
	retry := t.requested(RequestRetry)
	if newRevision(t.st, t.obs) || retry {
		t.pending()
		if retry && t.st.Phase != v1beta1.CanaryPhaseFailed {
			t.retryRequested() // the run started, or waits at its confirm-rollout gate
		}
		return
	}
	t.recordRevert()
	t.settle()
}

// recordRevert records a target reverted to the promoted revision after a
// failed run, so that the failed revision counts as new when it comes back.
func (t *tick) recordRevert() {
	if t.st.Phase == v1beta1.CanaryPhaseFailed && !failedPromotion(t.st) &&
		t.obs.TargetHash == t.st.LastPromotedSpec && t.st.LastAppliedSpec != t.st.LastPromotedSpec {
		t.recordRevision()
	}
}

// settle re-asserts what an idle phase promises: all the traffic on the
// primary and the target scaled to zero; after a failed promotion, all the
// traffic on the canary, which keeps running, once it is ready. The steps that end a run
// write their status before they scale the target down
// (Decision.AfterStatus), so a step interrupted after its status write is
// finished here, from what the cluster shows; a route changed by another
// writer is put back too. Both actions write nothing when the cluster
// already agrees.
func (t *tick) settle() {
	want := Routes{Primary: totalWeight}
	if failedPromotion(t.st) {
		if t.obs.Canary.State != Ready {
			return
		}
		want = Routes{Canary: totalWeight}
	}
	r := t.obs.Routes
	if r.Err == nil && (r.Primary != want.Primary || r.Canary != want.Canary || r.Mirrored) {
		t.act(SetRoutes{Primary: want.Primary, Canary: want.Canary})
	}
	if r.Err == nil {
		t.dropBaseline(false) // after the route write that gave it no weight
	}
	if !failedPromotion(t.st) {
		t.actOnAutoscaler(PauseTargetAutoscaler{})
		t.act(ScaleTargetToZero{})
	}
}

// waiting re-asks the confirm-rollout gates of a new revision.
func (t *tick) waiting() {
	t.act(EnsurePrimary{}, ReconcileRouting{})
	t.pending()
}

// pending gates a new revision before it is scaled up.
//
// Unlike Flagger, a canary in Waiting also honours its rollback hooks (in
// Flagger the confirm-rollout gate returns first, so they never run there).
func (t *tick) pending() {
	policies := []policy{notPaused, primaryReady, routesReadable}
	if t.st.Phase == v1beta1.CanaryPhaseWaiting {
		policies = append([]policy{abortRequested}, append(policies, noManualRollback)...)
	}
	if !t.passes(policies...) || !t.confirmRollout() {
		return
	}
	t.normal(msgScalingUp, targetID(t.cd))
	t.alertWithFields(v1beta1.SeverityInfo, alertNewRevision)
	// A run starts with all the traffic on the primary. Unlike Flagger,
	// where the route stayed on the canary after a failed promotion, so
	// that the next revision skipped its pre-rollout hooks and every step.
	if r := t.obs.Routes; r.Primary != totalWeight || r.Canary != 0 || r.Mirrored {
		t.act(SetRoutes{Primary: totalWeight})
	}
	t.actOnAutoscaler(ResumeTargetAutoscaler{})
	t.act(ScaleTargetFromZero{})
	t.startRun()
	t.newRun()
}

// analyse runs one analysis tick in Progressing or WaitingPromotion: the
// gates in Flagger's order, then the checks, then the strategy's step.
func (t *tick) analyse() {
	t.act(EnsurePrimary{}, ReconcileRouting{})
	if !t.passes(abortRequested, notPaused, primaryReady, routesReadable, revisionUnchanged, canaryReady, baselineReady) {
		return
	}
	if t.promoteFull() {
		return
	}
	if t.cd.SkipAnalysis() {
		t.promoteWithoutAnalysis()
		return
	}
	if !t.passes(stepsPossible, noManualRollback, belowThreshold, routeOwned) {
		return
	}
	if !t.analysisPasses() {
		if r := t.judgeFailure; r.verdict == rollback {
			t.d.Reason = r.reason
			t.apply(r)
			return
		}
		t.st.FailedChecks++
		t.restoreJudgedRoute()
		return
	}
	if t.restoreJudgedRoute() {
		return
	}
	if t.judgePassed {
		t.st.CanaryWeight = t.obs.Routes.Canary
		if t.confirmPromotion() {
			t.d.Reason = ReasonJudgePassed
			t.normal(msgJudgeEarly, targetID(t.cd))
			t.promote()
		}
		return
	}
	switch StrategyOf(t.an) {
	case StrategyABTesting:
		t.stepABTesting()
	case StrategyBlueGreen:
		t.stepBlueGreen()
	default:
		t.stepCanary()
	}
}

// analysisPasses runs the checks of the tick. The first tick of a run (no
// traffic, no iteration, nothing mirrored) starts the analysis and runs the
// pre-rollout hooks only; the run then takes its first step in the same
// tick. Every other tick runs the rollout hooks and the metrics.
func (t *tick) analysisPasses() bool {
	r := t.obs.Routes
	if r.Canary == 0 && t.st.CanaryWeight == 0 && t.st.Iterations == 0 && !(t.an.Mirror && r.Mirrored) {
		t.normal(msgStarting, targetID(t.cd))
		return t.preRollout()
	}
	return t.rolloutChecks()
}

// restart starts the analysis over for a revision that changed mid-run.
func (t *tick) restart() {
	t.normal(msgRestarting, targetID(t.cd))
	t.act(SetRoutes{Primary: totalWeight})
	t.startRun()
	t.newRun()
}

// newRun numbers a run that analyses a revision and clears what the last
// run recorded, so that status.checks and status.judge describe this run
// only (the history keeps the last ones).
func (t *tick) newRun() {
	t.st.Run++
	t.st.Checks = nil
	t.st.Judge = nil
}

// startRun resets the run's counters and records the revision under test.
func (t *tick) startRun() {
	t.st.Phase = v1beta1.CanaryPhaseProgressing
	t.st.CanaryWeight = 0
	t.st.Iterations = 0
	t.st.FailedChecks = 0
	t.recordRevision()
}

// recordRevision stores the target's hash and config checksums.
func (t *tick) recordRevision() {
	t.st.LastAppliedSpec = t.obs.TargetHash
	t.st.TrackedConfigs = nil
	if t.obs.TrackedConfigs != nil {
		configs := maps.Clone(t.obs.TrackedConfigs)
		t.st.TrackedConfigs = &configs
	}
}
