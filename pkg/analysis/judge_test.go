package analysis

import (
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/judge"
)

// judged is the tutorial's canary with the judge's baseline, a count
// metric compared with it and a threshold metric.
func judged(early bool, compared ...v1beta1.CanaryMetric) canaryOption {
	return withAnalysis(func(a *v1beta1.CanaryAnalysis) {
		a.Judge = &v1beta1.CanaryJudge{Baseline: true, EarlyPromotion: early}
		if len(compared) == 0 {
			compared = []v1beta1.CanaryMetric{comparedMetric("error-rate", v1beta1.CountComparison)}
		}
		a.Metrics = append(append(a.Metrics, metric("latency-p99")), compared...)
	})
}

func comparedMetric(name string, kind v1beta1.ComparisonKind) v1beta1.CanaryMetric {
	m := metric(name)
	m.Compare = &v1beta1.MetricComparison{Kind: kind, TotalTemplateRef: &v1beta1.CrossNamespaceObjectReference{Name: "requests"}}
	return m
}

// withJudgeState is a run whose judge has seen n ticks of error-rate.
func withJudgeState(verdict string) canaryOption {
	return withStatus(func(s *v1beta1.CanaryStatus) {
		s.Judge = []v1beta1.JudgeState{{Metric: "error-rate", Verdict: verdict, State: "n=1"}}
	})
}

// judgedObs is what the controller sees of a judged run: the route's three
// weights and a ready baseline.
func judgedObs(hash string, primary, canary, baseline int) Observations {
	o := observed(hash, primary, canary)
	o.Routes.Baseline = baseline
	o.Baseline = Readiness{State: Ready}
	o.BaselineExists = true
	return o
}

func TestStepJudge(t *testing.T) {
	notReady := judgedObs(rev2, 100, 0, 0)
	notReady.Baseline = Readiness{State: Waiting, Message: "waiting for rollout to finish: 0 of 2 updated replicas are available"}
	tests := []struct {
		name    string
		canary  *v1beta1.Canary
		obs     Observations
		checks  *fakeChecks
		phase   v1beta1.CanaryPhase
		weight  int
		reason  string
		event   string
		actions []Action // among the tick's actions
		after   []Action // among the actions after the status write
		no      []Action // not among either
		calls   []string // among the checks' calls
		nocalls []string
		judge   string // status.judge[error-rate].state
	}{{
		name:    "a run waits for its baseline before any traffic step",
		canary:  newCanary(running(v1beta1.CanaryPhaseProgressing, 0, 0, 0), judged(false)),
		obs:     notReady,
		phase:   v1beta1.CanaryPhaseProgressing,
		reason:  ReasonBaselineNotReady,
		event:   warning("baseline podinfo-baseline.test not ready: waiting for rollout to finish: 0 of 2 updated replicas are available"),
		actions: actions(EnsureBaseline{}),
		no:      actions(SetRoutes{Primary: 80, Canary: 10, Baseline: 10}),
		nocalls: []string{"hook"},
	}, {
		name:    "the first step gives the baseline as much as the canary",
		canary:  newCanary(running(v1beta1.CanaryPhaseProgressing, 0, 0, 0), judged(false)),
		obs:     judgedObs(rev2, 100, 0, 0),
		phase:   v1beta1.CanaryPhaseProgressing,
		weight:  10,
		actions: actions(EnsureBaseline{}, SetRoutes{Primary: 80, Canary: 10, Baseline: 10}),
	}, {
		name:    "a compared metric is judged, not held to a threshold, and its state is kept",
		canary:  newCanary(running(v1beta1.CanaryPhaseProgressing, 10, 0, 0), judged(false), withJudgeState("Continue")),
		obs:     judgedObs(rev2, 80, 10, 10),
		phase:   v1beta1.CanaryPhaseProgressing,
		weight:  20,
		actions: actions(SetRoutes{Primary: 60, Canary: 20, Baseline: 20}),
		calls:   []string{"metric latency-p99", "compare error-rate final=false"},
		nocalls: []string{"metric error-rate"},
		judge:   "n=2",
	}, {
		name:    "a Fail rolls back at once and removes the baseline after the status write",
		canary:  newCanary(running(v1beta1.CanaryPhaseProgressing, 20, 0, 0), judged(false), withJudgeState("Continue")),
		obs:     judgedObs(rev2, 60, 20, 20),
		checks:  newChecks().judged("error-rate", judge.Fail),
		phase:   v1beta1.CanaryPhaseFailed,
		reason:  ReasonJudgeFailed,
		event:   warning("Rolling back podinfo.test: judge: error-rate: Fail after 2 ticks"),
		actions: actions(SetRoutes{Primary: 100}),
		after:   actions(RemoveBaseline{}, ScaleTargetToZero{}),
		judge:   "n=2",
	}, {
		name:    "every count metric passing promotes early, the baseline's share going to the primary",
		canary:  newCanary(running(v1beta1.CanaryPhaseProgressing, 20, 0, 0), judged(true), withJudgeState("Continue")),
		obs:     judgedObs(rev2, 60, 20, 20),
		checks:  newChecks().judged("error-rate", judge.Pass),
		phase:   v1beta1.CanaryPhasePromoting,
		weight:  20,
		reason:  ReasonJudgePassed,
		event:   normal("Judge: every compared metric passed; promoting podinfo.test before its last step"),
		actions: actions(SetRoutes{Primary: 80, Canary: 20}),
		after:   actions(RemoveBaseline{}, PromoteToPrimary{Revision: rev2}),
	}, {
		name:    "without early promotion a pass only reports",
		canary:  newCanary(running(v1beta1.CanaryPhaseProgressing, 20, 0, 0), judged(false), withJudgeState("Continue")),
		obs:     judgedObs(rev2, 60, 20, 20),
		checks:  newChecks().judged("error-rate", judge.Pass),
		phase:   v1beta1.CanaryPhaseProgressing,
		weight:  30,
		event:   normal("Judge error-rate: Pass after 2 ticks"),
		actions: actions(SetRoutes{Primary: 40, Canary: 30, Baseline: 30}),
	}, {
		name: "a continuous metric is compared on the tick that promotes; maxWeight 100 is capped at 50",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 50, 0, 0),
			judged(false, comparedMetric("error-rate", v1beta1.CountComparison), comparedMetric("cpu", v1beta1.ContinuousComparison)),
			withAnalysis(func(a *v1beta1.CanaryAnalysis) { a.MaxWeight = 100 })),
		obs:     judgedObs(rev2, 0, 50, 50),
		checks:  newChecks().judged("cpu", judge.Pass),
		phase:   v1beta1.CanaryPhasePromoting,
		weight:  50,
		actions: actions(SetRoutes{Primary: 50, Canary: 50}),
		calls:   []string{"compare error-rate final=false", "compare cpu final=true"},
	}, {
		name:   "a compared metric that cannot be asked is a failed check",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 10, 0, 0), judged(false)),
		obs:    judgedObs(rev2, 80, 10, 10),
		checks: &fakeChecks{compareErr: errors.New("Metric template requests.test error: not found")},
		phase:  v1beta1.CanaryPhaseProgressing,
		weight: 10,
		event:  warning("Metric template requests.test error: not found"),
		no:     actions(SetRoutes{Primary: 60, Canary: 20, Baseline: 20}),
	}, {
		name:    "a baseline weight changed by another writer is re-asserted",
		canary:  newCanary(running(v1beta1.CanaryPhaseProgressing, 20, 0, 0), judged(false)),
		obs:     judgedObs(rev2, 75, 20, 5),
		phase:   v1beta1.CanaryPhaseProgressing,
		weight:  20,
		reason:  ReasonRouteDrift,
		actions: actions(SetRoutes{Primary: 60, Canary: 20, Baseline: 20}),
	}, {
		name:    "a judge's rollback whose status write was lost rolls back again, without giving the canary its share back first",
		canary:  newCanary(running(v1beta1.CanaryPhaseProgressing, 20, 0, 0), judged(false), withJudgeState("Continue")),
		obs:     judgedObs(rev2, 100, 0, 0),
		checks:  newChecks().judged("error-rate", judge.Fail),
		phase:   v1beta1.CanaryPhaseFailed,
		reason:  ReasonJudgeFailed,
		calls:   []string{"compare error-rate final=false"},
		no:      actions(SetRoutes{Primary: 60, Canary: 20, Baseline: 20}),
		nocalls: []string{"hook smoke"},
	}, {
		name:    "all traffic moved to the primary by another writer is put back once the checks pass",
		canary:  newCanary(running(v1beta1.CanaryPhaseProgressing, 20, 0, 0), judged(false), withJudgeState("Continue")),
		obs:     judgedObs(rev2, 100, 0, 0),
		phase:   v1beta1.CanaryPhaseProgressing,
		weight:  20,
		reason:  ReasonRouteDrift,
		actions: actions(SetRoutes{Primary: 60, Canary: 20, Baseline: 20}),
		no:      actions(SetRoutes{Primary: 40, Canary: 30, Baseline: 30}),
	}, {
		name:   "a judge's early promotion whose status write was lost promotes again",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 20, 0, 0), judged(true), withJudgeState("Pass")),
		obs:    judgedObs(rev2, 80, 20, 0),
		checks: newChecks().judged("error-rate", judge.Pass),
		phase:  v1beta1.CanaryPhasePromoting,
		weight: 20,
		reason: ReasonJudgePassed,
		no:     actions(SetRoutes{Primary: 60, Canary: 20, Baseline: 20}),
	}, {
		name:    "an idle canary gives a left-over baseline no weight, then removes it",
		canary:  newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), judged(false)),
		obs:     judgedObs(rev1, 90, 0, 10),
		phase:   v1beta1.CanaryPhaseSucceeded,
		actions: actions(SetRoutes{Primary: 100}, RemoveBaseline{}),
	}, {
		name:    "Promoting takes back a baseline weight and removes the baseline",
		canary:  newCanary(running(v1beta1.CanaryPhasePromoting, 20, 0, 0), judged(false)),
		obs:     func() Observations { o := judgedObs(rev2, 60, 20, 20); o.PrimaryRevision = rev2; return o }(),
		phase:   v1beta1.CanaryPhaseFinalising,
		actions: actions(SetRoutes{Primary: 80, Canary: 20}, RemoveBaseline{}),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checks := tt.checks
			if checks == nil {
				checks = newChecks()
			}
			if checks.hooks == nil {
				checks.hooks, checks.metrics = map[string]error{}, map[string]error{}
			}
			d := step(tt.canary, tt.obs, checks)
			assert.Equal(t, tt.phase, d.Status.Phase, "phase")
			if tt.phase == v1beta1.CanaryPhaseProgressing || tt.phase == v1beta1.CanaryPhasePromoting {
				assert.Equal(t, tt.weight, d.Status.CanaryWeight, "weight")
			}
			assert.Equal(t, tt.reason, d.Reason, "reason")
			if tt.event != "" {
				assert.Contains(t, texts(d.Events), tt.event)
			}
			for _, a := range tt.actions {
				assert.Contains(t, d.Actions, a)
			}
			for _, a := range tt.after {
				assert.Contains(t, d.AfterStatus, a)
			}
			for _, a := range tt.no {
				assert.NotContains(t, append(d.Actions, d.AfterStatus...), a)
			}
			for _, c := range tt.calls {
				assert.Contains(t, checks.calls, c)
			}
			for _, c := range tt.nocalls {
				assert.False(t, containsPrefix(checks.calls, c), "no call %q in %v", c, checks.calls)
			}
			if tt.judge != "" {
				assert.Len(t, d.Status.Judge, 1)
				assert.Equal(t, tt.judge, d.Status.Judge[0].State)
			}
		})
	}
}

func TestStepWithoutJudgeIsUnchanged(t *testing.T) {
	c := newCanary(running(v1beta1.CanaryPhaseProgressing, 10, 0, 0), withMetrics(comparedMetric("error-rate", v1beta1.CountComparison)))
	checks := newChecks()
	d := step(c, observed(rev2, 90, 10), checks)
	assert.Contains(t, d.Actions, SetRoutes{Primary: 80, Canary: 20}, "no baseline weight")
	assert.Contains(t, checks.calls, "metric error-rate", "without judge.baseline a compare is ignored: the threshold applies")
	assert.False(t, containsPrefix(checks.calls, "compare"))
	assert.NotContains(t, d.Actions, EnsureBaseline{})
}

func TestSharesWithABaseline(t *testing.T) {
	assert.Equal(t, Routes{Primary: 80, Canary: 10, Baseline: 10}, asShares(Routes{Primary: 8, Canary: 1, Baseline: 1}),
		"relative weights of three backends")
	assert.Equal(t, Routes{Primary: 60, Canary: 20, Baseline: 20}, asShares(Routes{Primary: 60, Canary: 20, Baseline: 20}))
}

func TestTerminateReleasesTheBaseline(t *testing.T) {
	deleting := func(revert bool) canaryOption {
		return func(c *v1beta1.Canary) {
			now := metav1.NewTime(t0)
			c.DeletionTimestamp = &now
			c.Finalizers = []string{Finalizer}
			c.Spec.RevertOnDeletion = revert
		}
	}
	for _, revert := range []bool{true, false} {
		c := newCanary(running(v1beta1.CanaryPhaseProgressing, 10, 0, 0), judged(false), deleting(revert))
		d := step(c, judgedObs(rev2, 80, 10, 10), newChecks())
		i := slices.Index(d.Actions, Action(SetRoutes{Primary: 90, Canary: 10}))
		j := slices.Index(d.Actions, Action(RemoveBaseline{}))
		assert.True(t, i >= 0 && j > i, "revertOnDeletion %t: the baseline's share goes to the primary, then it is removed: %v", revert, d.Actions)
	}
}

func TestTerminateWaitsForARouteItCanRead(t *testing.T) {
	c := newCanary(running(v1beta1.CanaryPhaseProgressing, 20, 0, 0), judged(false), func(c *v1beta1.Canary) {
		now := metav1.NewTime(t0)
		c.DeletionTimestamp = &now
		c.Finalizers = []string{Finalizer}
		c.Spec.RevertOnDeletion = true
	})
	obs := judgedObs(rev2, 60, 20, 20)
	obs.Routes.Err = errors.New("HTTPRoute podinfo.test generation 4 not accepted yet")
	d := step(c, obs, newChecks())
	assert.Equal(t, v1beta1.CanaryPhaseProgressing, d.Status.Phase, "Terminating is written once the baseline's share is back")
	assert.Equal(t, ReasonRouteNotReady, d.Reason)
	assert.NotContains(t, d.Actions, Action(RemoveBaseline{}))
	assert.NotContains(t, d.Actions, Action(RevertRouting{}))
}
