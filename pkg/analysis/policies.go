package analysis

import (
	"fmt"
	"maps"

	"github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// Reasons a tick was stopped or redirected, reported in Decision.Reason.
const (
	// ReasonTargetNotFound means the target workload does not exist.
	ReasonTargetNotFound = "TargetNotFound"
	// ReasonSuspended means spec.suspend is set.
	ReasonSuspended = "Suspended"
	// ReasonPrimaryNotReady means the primary is not ready yet.
	ReasonPrimaryNotReady = "PrimaryNotReady"
	// ReasonPrimaryFailed means the primary will not become ready after a promotion.
	ReasonPrimaryFailed = "PrimaryFailed"
	// ReasonRouteNotReady means the route's weights cannot be read or trusted.
	ReasonRouteNotReady = "RouteNotReady"
	// ReasonRevisionChanged means the target changed during the analysis.
	ReasonRevisionChanged = "RevisionChanged"
	// ReasonCanaryNotReady means the canary is not ready yet.
	ReasonCanaryNotReady = "CanaryNotReady"
	// ReasonProgressDeadlineExceeded means a workload will not become ready.
	ReasonProgressDeadlineExceeded = "ProgressDeadlineExceeded"
	// ReasonFailedChecksThreshold means failedChecks reached the threshold.
	ReasonFailedChecksThreshold = "FailedChecksThreshold"
	// ReasonManualRollback means a rollback webhook asked for a rollback.
	ReasonManualRollback = "ManualRollback"
	// ReasonTargetNotReady means a deleted canary waits for the restored target.
	ReasonTargetNotReady = "TargetNotReady"
	// ReasonPromotionCopy means the analysed template is being copied to the
	// primary.
	ReasonPromotionCopy = "PromotionCopy"
	// ReasonNoSteps means the spec gives the analysis no step to take.
	ReasonNoSteps = "NoSteps"
	// ReasonRouteDrift means another writer changed the route's weights.
	ReasonRouteDrift = "RouteDrift"
	// ReasonPaused means a pause request holds the canary.
	ReasonPaused = "Paused"
)

// verdict is what a policy tells the phase handler to do.
type verdict int

const (
	proceed       verdict = iota // go on with the next policy
	wait                         // stop the tick; try again on the next one
	restart                      // start the analysis over for a new revision
	rollback                     // roll the run back
	failPromotion                // the promoted primary will not come up
)

// result is a policy's verdict and its reason; message is the text shown in
// the warning event or the rollback event. A wait on a workload's readiness
// names the workload, so that it wakes the canary when it is ready.
type result struct {
	verdict verdict
	reason  string
	message string
	awaits  Workload
}

// policy is a named test of the tick's inputs, in the manner of
// cert-manager's certificate policies; the phase handlers chain them with
// passes. All are pure but noManualRollback, which asks the rollback
// webhooks through Checks (the I/O of a tick: webhooks and metric queries).
type policy func(t *tick) result

// passed is the result of a policy that lets the tick go on.
var passed = result{}

// passes runs policies in order and applies the first verdict other than
// proceed; it reports whether all of them passed.
func (t *tick) passes(policies ...policy) bool {
	for _, c := range policies {
		r := c(t)
		if r.verdict == proceed {
			continue
		}
		t.d.Reason = r.reason
		t.d.Next.WhenReady = r.awaits
		t.apply(r)
		return false
	}
	return true
}

func (t *tick) apply(r result) {
	switch r.verdict {
	case wait:
		if r.message != "" {
			t.warning("%s", r.message)
		}
	case restart:
		t.restart()
	case rollback:
		t.rollback(r)
	case failPromotion:
		t.failPromotion(r.message)
	}
}

// primaryReady requires a ready primary, except when analysis is skipped. A
// primary that will not come up fails a promotion under way, rolls a running
// analysis back, and otherwise only holds the tick.
//
// Unlike Flagger, a failed primary outside an analysis (while initializing,
// idle or waiting for approval) does not roll back: nothing is running, and
// while initializing the rollback would scale the target, still serving the
// apex Service, to zero.
//
// Unlike Flagger, skipAnalysis does not skip the wait while initializing:
// pointing the route at a primary with no ready pod is an outage, and the
// target still serves meanwhile.
func primaryReady(t *tick) result {
	p := t.obs.Primary
	initializing := t.st.Phase == "" || t.st.Phase == v1beta1.CanaryPhaseInitializing
	if p.State == Ready || (t.cd.SkipAnalysis() && !initializing) {
		return passed
	}
	if p.State == Failed {
		switch t.st.Phase {
		case v1beta1.CanaryPhasePromoting, v1beta1.CanaryPhaseFinalising:
			return result{verdict: failPromotion, reason: ReasonPrimaryFailed, message: p.Message}
		case v1beta1.CanaryPhaseProgressing, v1beta1.CanaryPhaseWaitingPromotion:
			return result{verdict: rollback, reason: ReasonProgressDeadlineExceeded, message: p.Message}
		}
	}
	return result{verdict: wait, reason: ReasonPrimaryNotReady, message: p.Message, awaits: PrimaryWorkload}
}

// routesReadable requires trustworthy route weights.
func routesReadable(t *tick) result {
	if err := t.obs.Routes.Err; err != nil {
		return result{verdict: wait, reason: ReasonRouteNotReady, message: err.Error()}
	}
	return passed
}

// revisionUnchanged restarts the analysis when the target changes during it.
//
// Unlike Flagger, any change of the pod template restarts it, including a
// revert to the promoted revision: Flagger ignores that revert, analyses the
// reverted pods under the old revision's hash and records the wrong revision
// as promoted.
func revisionUnchanged(t *tick) result {
	if t.obs.TargetHash != t.st.LastAppliedSpec || configsChanged(t.st, t.obs) {
		return result{verdict: restart, reason: ReasonRevisionChanged}
	}
	return passed
}

// promotedCopy requires a primary that runs the analysed revision. While it
// does not, the copy is made (again, if the write that made it was lost) and
// the tick waits for the primary's rollout; if the target no longer runs the
// analysed revision, the copy cannot be made and the analysis starts over.
func promotedCopy(t *tick) result {
	analysed := t.st.AppliedRevision()
	if t.obs.PrimaryRevision == analysed {
		return passed
	}
	if v1beta1.RevisionID(t.obs.TargetHash, t.obs.TrackedConfigs) != analysed {
		return result{verdict: restart, reason: ReasonRevisionChanged}
	}
	t.act(PromoteToPrimary{Revision: analysed})
	return result{verdict: wait, reason: ReasonPromotionCopy}
}

// stepsPossible holds a weighted canary whose spec gives no weight to step
// to (stepWeight 0, stepWeights [0], no analysis): it would otherwise be
// promoted without a single metric check. The CRD rejects such specs; this
// covers canaries admitted by an older CRD.
//
// Unlike Flagger, which promotes such a canary after its pre-rollout hooks.
func stepsPossible(t *tick) result {
	if StrategyOf(t.an) != StrategyCanary || NextWeight(t.cd, 0) > 0 {
		return passed
	}
	return result{verdict: wait, reason: ReasonNoSteps, message: fmt.Sprintf(msgNoSteps, canaryID(t.cd))}
}

// routeOwned re-asserts the weight of a weighted canary's run when the
// route shows another: neither the weight the status records nor the next
// step (the route write of a step whose status write was interrupted). The
// tick then waits, and the run goes on from its own weight.
//
// Unlike Flagger, where a weight set by another writer (or a backend it
// removed) became the run's weight: the release jumped ahead, or started
// its ladder over, without an event.
func routeOwned(t *tick) result {
	if StrategyOf(t.an) != StrategyCanary {
		return passed
	}
	w, r := min(max(t.st.CanaryWeight, 0), totalWeight), t.obs.Routes
	next := NextWeight(t.cd, w)
	if (r.Canary == w && r.Baseline == t.baselineWeight(w)) || (r.Canary == next && r.Baseline == t.baselineWeight(next)) {
		return passed
	}
	if judging(t.an) {
		switch {
		case r.Canary == w && r.Baseline == 0:
			// The baseline's share back on the primary at the run's weight:
			// the route of a judge's promotion whose status write was lost.
			// The checks decide it again; a step gives the baseline its
			// share back.
			return passed
		case w > 0 && r.Canary == 0 && r.Baseline == 0 && !r.Mirrored:
			// All on the primary: a judge's rollback whose status write was
			// lost, or another writer. The checks tell: a Fail rolls back
			// again, anything else puts the run's weights back (analyse).
			// Re-asserted first, a failed canary would get its share back
			// for an interval.
			t.judgeRecheck = true
			return passed
		}
	}
	split := t.split(w)
	split.Mirrored = r.Mirrored
	t.act(split)
	return result{verdict: wait, reason: ReasonRouteDrift, message: fmt.Sprintf(msgRouteDrift, routeID(t.cd), r.Primary, r.Canary, totalWeight-w, w)}
}

// canaryReady requires a ready canary; one that will not come up is rolled
// back.
func canaryReady(t *tick) result {
	switch c := t.obs.Canary; c.State {
	case Ready:
		return passed
	case Failed:
		return result{verdict: rollback, reason: ReasonProgressDeadlineExceeded, message: c.Message}
	default:
		return result{verdict: wait, reason: ReasonCanaryNotReady, message: c.Message, awaits: TargetWorkload}
	}
}

// belowThreshold rolls the run back once failedChecks reached the threshold,
// which is on the tick after the failure that reached it.
func belowThreshold(t *tick) result {
	if t.st.FailedChecks >= t.cd.GetAnalysisThreshold() {
		return result{verdict: rollback, reason: ReasonFailedChecksThreshold}
	}
	return passed
}

// newRevision reports whether the target differs from the revision the
// status records: a new pod template or changed ConfigMaps or Secrets.
func newRevision(st v1beta1.CanaryStatus, obs Observations) bool {
	return specChanged(st, obs.TargetHash) || configsChanged(st, obs)
}

// specChanged follows Flagger's hasSpecChanged: a template equal to the last
// promoted one is not a change, so reverting the target to it (a "manual
// rollback" through git) does not start a run.
func specChanged(st v1beta1.CanaryStatus, hash string) bool {
	switch {
	case st.LastAppliedSpec == "":
		return true
	case hash == st.LastPromotedSpec:
		return false
	default:
		return hash != st.LastAppliedSpec
	}
}

// configsChanged compares the tracked checksums; nil observed checksums mean
// config tracking is off.
func configsChanged(st v1beta1.CanaryStatus, obs Observations) bool {
	if obs.TrackedConfigs == nil {
		return false
	}
	var stored map[string]string
	if st.TrackedConfigs != nil {
		stored = *st.TrackedConfigs
	}
	return !maps.Equal(stored, obs.TrackedConfigs)
}
