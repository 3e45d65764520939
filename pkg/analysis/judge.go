package analysis

import (
	"fmt"

	"github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/judge"
)

// The judge (analysis.judge, Serin only) compares the canary with a
// baseline: a fresh copy of the primary's version, started with the run
// and given as much traffic as the canary. Its life in the state machine:
//
//   - every analysis tick of a run ensures the baseline (EnsureBaseline);
//     the run takes no step until it is ready (baselineReady);
//   - each traffic step gives the baseline the canary's weight from the
//     primary (primary 100-2w, baseline w, canary w; see split);
//   - each tick of checks runs the judge on the metrics with compare,
//     after the threshold metrics: a Fail rolls back at once (the test
//     bounds false failures over any number of looks), every count metric
//     passing promotes early with judge.earlyPromotion, and a continuous
//     metric is compared once, on the tick that would promote;
//   - every other tick gives the baseline no weight and then removes it
//     (dropBaseline): promotion, rollback, the idle phases, deletion.
//
// The judge's state per metric is in status.judge, written with the step,
// so that a tick resumed after a crash folds in the same counters again
// from the state of the last written step.

const (
	// ReasonBaselineNotReady means the judge's baseline is not ready yet.
	ReasonBaselineNotReady = "BaselineNotReady"
	// ReasonJudgeFailed means the judge found the canary worse than the
	// baseline.
	ReasonJudgeFailed = "JudgeFailed"
	// ReasonJudgePassed means the judge promoted early.
	ReasonJudgePassed = "JudgePassed"
)

const (
	msgJudge            = "Judge %s: %s"
	msgJudgeEarly       = "Judge: every compared metric passed; promoting %s before its last step"
	msgJudgeUndecided   = "Judge %s ends %s (%s): promoted on the other checks"
	msgRollbackJudge    = "Rolling back %s: judge: %s"
	alertRollbackJudge  = "Rolling back: the canary is worse than the baseline: %s"
	msgBaselineNotReady = "baseline %s not ready: %s"
)

// judging reports whether the analysis runs a baseline for the judge.
func judging(a *v1beta1.CanaryAnalysis) bool {
	return a != nil && a.Judge != nil && a.Judge.Baseline
}

// split is the route of a run's traffic step at canary weight w: with a
// baseline, the baseline takes as much as the canary from the primary.
func (t *tick) split(w int) SetRoutes {
	if judging(t.an) && w > 0 {
		return SetRoutes{Primary: totalWeight - 2*w, Canary: w, Baseline: w}
	}
	return SetRoutes{Primary: totalWeight - w, Canary: w}
}

// baselineWeight is the baseline's weight in a run at canary weight w.
func (t *tick) baselineWeight(w int) int {
	return t.split(w).Baseline
}

// baselineReady ensures the baseline of a judged run and holds the run
// until it is ready. A baseline that will not come up holds it with a
// warning: it runs the version in production, so the fault is not the
// canary's.
func baselineReady(t *tick) result {
	if !judging(t.an) {
		return passed
	}
	t.act(EnsureBaseline{})
	if t.obs.Baseline.State == Ready {
		return passed
	}
	msg := t.obs.Baseline.Message
	if msg == "" {
		msg = "waiting for it to be created"
	}
	return result{verdict: wait, reason: ReasonBaselineNotReady,
		message: fmt.Sprintf(msgBaselineNotReady, baselineID(t.cd), msg)}
}

// dropBaseline removes the baseline on a tick that routes it nothing: the
// caller has set (or seen) its weight at zero, so that no request goes to
// pods being deleted. In Decision.AfterStatus when after is set, so that
// the status says the run ended first.
func (t *tick) dropBaseline(after bool) {
	if !t.obs.BaselineExists {
		return
	}
	if after {
		t.after(RemoveBaseline{})
		return
	}
	t.act(RemoveBaseline{})
}

// releaseBaseline ends a deleted canary's baseline: its share of the route
// back to the primary, then its removal. The Gateway API router leaves the
// route as it is on deletion (garbage collection removes it with the
// Canary), so without this the baseline's share would go to pods that are
// gone until then. It reports false, and the tick waits, while a baseline
// may hold a share of a route that cannot be read (a parent has not
// accepted its last write): the deletion goes on once it can.
func (t *tick) releaseBaseline() bool {
	r := t.obs.Routes
	if r.Err != nil {
		if t.obs.BaselineExists || judging(t.an) {
			t.d.Reason = ReasonRouteNotReady
			return false
		}
		return true
	}
	if r.Baseline > 0 {
		t.act(SetRoutes{Primary: r.Primary + r.Baseline, Canary: r.Canary, Mirrored: r.Mirrored})
	}
	t.dropBaseline(false)
	return true
}

// restoreJudgedRoute puts a judged run's weights back once the checks have
// not rolled it back (see routeOwned): another writer had moved all the
// traffic to the primary. It reports whether it did, and the tick waits.
func (t *tick) restoreJudgedRoute() bool {
	if !t.judgeRecheck {
		return false
	}
	w, r := t.st.CanaryWeight, t.obs.Routes
	split := t.split(w)
	t.act(split)
	t.d.Reason = ReasonRouteDrift
	t.warning(msgRouteDrift, routeID(t.cd), r.Primary, r.Canary, split.Primary, split.Canary)
	return true
}

// judgeMetrics runs the judge's tick for the compared metrics, counts
// first, then continuous ones. It returns false when the tick's checks
// fail: a metric could not be asked (a failed check), or the judge found
// the canary worse (t.judgeFailure says so, and the caller rolls back).
// final is set on the tick that would promote. It sets t.judgePassed when
// every count metric passed and early promotion is on.
func (t *tick) judgeMetrics(final bool) bool {
	if !judging(t.an) {
		return true
	}
	counts, passing := 0, 0
	for _, kind := range []v1beta1.ComparisonKind{v1beta1.CountComparison, v1beta1.ContinuousComparison} {
		if kind == v1beta1.ContinuousComparison && counts > 0 && passing == counts && t.an.Judge.EarlyPromotion {
			final = true // the counts promote early: the continuous metrics decide now
		}
		for i, m := range t.an.Metrics {
			if m.Compare == nil || m.Compare.Kind != kind {
				continue
			}
			prev := t.judgeState(m.Name)
			c, err := t.in.Checks.CompareMetric(t.ctx, m, i, prev.State, final && kind == v1beta1.ContinuousComparison)
			if err != nil {
				t.warning("%s", err.Error())
				return false
			}
			d := c.Decision
			t.setJudgeState(v1beta1.JudgeState{Metric: m.Name, Verdict: string(d.Verdict), Reason: d.Reason,
				Message: d.Message, State: c.State})
			if d.Verdict == judge.Fail {
				t.judgeFailure = result{verdict: rollback, reason: ReasonJudgeFailed, message: m.Name + ": " + d.Message}
				return false
			}
			if string(d.Verdict) != prev.Verdict || d.Verdict == judge.Pass {
				t.normal(msgJudge, m.Name, d.Message)
			}
			if kind == v1beta1.CountComparison {
				counts++
				if d.Verdict == judge.Pass {
					passing++
				}
			} else if final && d.Verdict != judge.Pass {
				t.normal(msgJudgeUndecided, m.Name, d.Verdict, d.Reason)
			}
		}
	}
	t.judgePassed = counts > 0 && passing == counts && t.an.Judge.EarlyPromotion
	return true
}

// judgeState is the stored state of a compared metric in this run.
func (t *tick) judgeState(metric string) v1beta1.JudgeState {
	for _, s := range t.st.Judge {
		if s.Metric == metric {
			return s
		}
	}
	return v1beta1.JudgeState{Metric: metric}
}

func (t *tick) setJudgeState(s v1beta1.JudgeState) {
	for i := range t.st.Judge {
		if t.st.Judge[i].Metric == s.Metric {
			t.st.Judge[i] = s
			return
		}
	}
	t.st.Judge = append(t.st.Judge, s)
}

// baselineID is "<target>-baseline.<namespace>".
func baselineID(c *v1beta1.Canary) string {
	return c.Spec.TargetRef.Name + "-baseline." + c.Namespace
}
