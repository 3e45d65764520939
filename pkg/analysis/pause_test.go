package analysis

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// paused is a canary whose status holds a handled pause request.
func paused(c *v1beta1.Canary) {
	c.Status.Paused = true
	c.Status.LastHandledRequest = "p1"
}

func TestStepPause(t *testing.T) {
	tests := []struct {
		name    string
		canary  *v1beta1.Canary
		obs     Observations
		phase   v1beta1.CanaryPhase
		paused  bool
		weight  int
		handled string
		reason  string
		event   string // an event the tick records
		checked bool   // the tick ran a metric check
		moved   bool   // the tick wrote a SetRoutes
	}{{
		name:   "pause holds a run at its weight, without a check",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 0), withMetrics(metric("error-rate")), withRequest(RequestPause, "p1", "")),
		obs:    observed(rev2, 70, 30),
		phase:  v1beta1.CanaryPhaseProgressing,
		paused: true, weight: 30, handled: "p1", reason: ReasonPaused,
		event: normal("Request pause (p1): podinfo.test holds here until resumed"),
	}, {
		name:   "a paused run stays held on later ticks",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 0), withMetrics(metric("error-rate")), paused),
		obs:    observed(rev2, 70, 30),
		phase:  v1beta1.CanaryPhaseProgressing,
		paused: true, weight: 30, handled: "p1", reason: ReasonPaused,
	}, {
		name:   "resume lets the run take its next step in the same tick",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 0), withMetrics(metric("error-rate")), paused, withRequest(RequestResume, "p2", "")),
		obs:    observed(rev2, 70, 30),
		phase:  v1beta1.CanaryPhaseProgressing,
		weight: 40, handled: "p2",
		event:   normal("Request resume (p2): podinfo.test goes on"),
		checked: true, moved: true,
	}, {
		name:   "abort still rolls a paused run back",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 0), paused, withRequest(RequestAbort, "a1", "")),
		obs:    observed(rev2, 70, 30),
		phase:  v1beta1.CanaryPhaseFailed,
		paused: true, handled: "a1", reason: ReasonRequest,
		moved: true,
	}, {
		name:   "promote-full is refused while paused",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 0), paused, withRequest(RequestPromoteFull, "f1", "")),
		obs:    observed(rev2, 70, 30),
		phase:  v1beta1.CanaryPhaseProgressing,
		paused: true, weight: 30, handled: "f1", reason: ReasonPaused,
		event: normal("Request promote-full (f1) ignored: the canary is paused; resume it first"),
	}, {
		name:   "resume without a pause is ignored",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 0), withMetrics(metric("error-rate")), withRequest(RequestResume, "r1", "")),
		obs:    observed(rev2, 70, 30),
		phase:  v1beta1.CanaryPhaseProgressing,
		weight: 40, handled: "r1",
		event:   normal("Request resume (r1) ignored: the canary is not paused"),
		checked: true, moved: true,
	}, {
		name:   "a second pause is ignored",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 0), paused, withRequest(RequestPause, "p3", "")),
		obs:    observed(rev2, 70, 30),
		phase:  v1beta1.CanaryPhaseProgressing,
		paused: true, weight: 30, handled: "p3", reason: ReasonPaused,
		event: normal("Request pause (p3) ignored: the canary is already paused"),
	}, {
		name:   "a paused idle canary does not start a new revision",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), paused),
		obs:    observed(rev2, 100, 0),
		phase:  v1beta1.CanaryPhaseSucceeded,
		paused: true, handled: "p1", reason: ReasonPaused,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checks := newChecks()
			d := step(tt.canary, tt.obs, checks)
			assert.Equal(t, tt.phase, d.Status.Phase, "phase")
			assert.Equal(t, tt.paused, d.Status.Paused, "paused")
			assert.Equal(t, tt.handled, d.Status.LastHandledRequest, "lastHandledRequest")
			assert.Equal(t, tt.reason, d.Reason, "reason")
			if tt.phase == v1beta1.CanaryPhaseProgressing {
				assert.Equal(t, tt.weight, d.Status.CanaryWeight, "weight")
			}
			if tt.event != "" {
				assert.Contains(t, texts(d.Events), tt.event)
			}
			assert.Equal(t, tt.checked, containsPrefix(checks.calls, "metric "), "metric checked")
			moved := false
			for _, a := range append(d.Actions, d.AfterStatus...) {
				if _, ok := a.(SetRoutes); ok {
					moved = true
				}
				assert.NotEqual(t, ScaleTargetFromZero{}, a, "a paused canary starts no run")
			}
			assert.Equal(t, tt.moved, moved, "traffic moved")
		})
	}
}

func TestStepNumbersRuns(t *testing.T) {
	withOldRun := withStatus(func(s *v1beta1.CanaryStatus) {
		s.Run = 4
		s.Checks = []v1beta1.CheckResult{{Kind: v1beta1.MetricCheck, Name: "error-rate", Verdict: v1beta1.CheckFail}}
		s.Judge = []v1beta1.JudgeState{{Metric: "error-rate", Verdict: "Fail"}}
	})
	tests := []struct {
		name   string
		canary *v1beta1.Canary
		obs    Observations
		run    int
		kept   bool // the last run's checks are kept
	}{{
		name:   "a new revision starts the next run, with no checks of the last one",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), withOldRun),
		obs:    observed(rev2, 100, 0),
		run:    5,
	}, {
		name:   "a revision changed mid-run starts the next run",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 0), withOldRun),
		obs:    observed(rev3, 70, 30),
		run:    5,
	}, {
		name:   "a step of a run keeps its number and checks",
		canary: newCanary(running(v1beta1.CanaryPhaseProgressing, 30, 0, 0), withOldRun),
		obs:    observed(rev2, 70, 30),
		run:    4, kept: true,
	}, {
		name:   "an idle tick keeps the last run's checks for kubectl serin get",
		canary: newCanary(idleIn(v1beta1.CanaryPhaseSucceeded), withOldRun),
		obs:    observed(rev1, 100, 0),
		run:    4, kept: true,
	}, {
		name:   "initialization is not a run",
		canary: newCanary(),
		obs:    observed(rev1, 0, 0),
		run:    0,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := step(tt.canary, tt.obs, newChecks())
			assert.Equal(t, tt.run, d.Status.Run)
			assert.Equal(t, tt.kept, len(d.Status.Checks) == 1, "checks")
			assert.Equal(t, tt.kept, len(d.Status.Judge) == 1, "judge")
		})
	}
}

// containsPrefix reports whether one of calls starts with prefix.
func containsPrefix(calls []string, prefix string) bool {
	for _, c := range calls {
		if len(c) >= len(prefix) && c[:len(prefix)] == prefix {
			return true
		}
	}
	return false
}
