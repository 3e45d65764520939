package telemetry

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

func TestOutcomeOf(t *testing.T) {
	cases := []struct {
		before, after flaggerv1.CanaryPhase
		want          Outcome
		ended         bool
	}{
		{flaggerv1.CanaryPhaseFinalising, flaggerv1.CanaryPhaseSucceeded, Outcome{Promoted: true, AnalysisStatus: AnalysisCompleted}, true},
		{flaggerv1.CanaryPhaseProgressing, flaggerv1.CanaryPhaseSucceeded, Outcome{Promoted: true, AnalysisStatus: AnalysisSkipped}, true},
		{flaggerv1.CanaryPhaseProgressing, flaggerv1.CanaryPhaseFailed, Outcome{AnalysisStatus: AnalysisCompleted}, true},
		{flaggerv1.CanaryPhaseWaiting, flaggerv1.CanaryPhaseFailed, Outcome{AnalysisStatus: AnalysisCompleted}, true},
		{flaggerv1.CanaryPhasePromoting, flaggerv1.CanaryPhaseFailed, Outcome{AnalysisStatus: AnalysisCompleted}, true},
		{flaggerv1.CanaryPhaseSucceeded, flaggerv1.CanaryPhaseSucceeded, Outcome{}, false},
		{flaggerv1.CanaryPhaseFailed, flaggerv1.CanaryPhaseFailed, Outcome{}, false},
		{flaggerv1.CanaryPhaseSucceeded, flaggerv1.CanaryPhaseProgressing, Outcome{}, false},
		{flaggerv1.CanaryPhasePromoting, flaggerv1.CanaryPhaseFinalising, Outcome{}, false},
		{flaggerv1.CanaryPhaseInitializing, flaggerv1.CanaryPhaseInitialized, Outcome{}, false},
	}
	for _, tc := range cases {
		got, ended := OutcomeOf(flaggerv1.CanaryStatus{Phase: tc.before}, flaggerv1.CanaryStatus{Phase: tc.after})
		assert.Equal(t, tc.ended, ended, "%s -> %s", tc.before, tc.after)
		assert.Equal(t, tc.want, got, "%s -> %s", tc.before, tc.after)
	}
}

func TestObserveTransitionCountsRuns(t *testing.T) {
	lister, _ := newLister(t)
	r := NewReleases(lister)
	status := func(p flaggerv1.CanaryPhase) flaggerv1.CanaryStatus { return flaggerv1.CanaryStatus{Phase: p} }
	canary := newCanary("test", "podinfo")
	blueGreen := newCanary("test", "bg", withTarget("backend"), withIterations(10, false))
	abTesting := newCanary("test", "ab", withTarget("frontend"), withIterations(10, true))

	r.ObserveTransition(canary, status(flaggerv1.CanaryPhaseFinalising), status(flaggerv1.CanaryPhaseSucceeded))
	r.ObserveTransition(canary, status(flaggerv1.CanaryPhaseSucceeded), status(flaggerv1.CanaryPhaseSucceeded))
	r.ObserveTransition(canary, status(flaggerv1.CanaryPhaseProgressing), status(flaggerv1.CanaryPhaseSucceeded))
	r.ObserveTransition(blueGreen, status(flaggerv1.CanaryPhaseProgressing), status(flaggerv1.CanaryPhaseFailed))
	r.ObserveTransition(abTesting, status(flaggerv1.CanaryPhaseFinalising), status(flaggerv1.CanaryPhaseSucceeded))
	r.ObserveTransition(abTesting, status(flaggerv1.CanaryPhaseProgressing), status(flaggerv1.CanaryPhaseProgressing))

	want := `
# HELP flagger_canary_failures_total Canary runs that ended rolled back.
# TYPE flagger_canary_failures_total counter
flagger_canary_failures_total{analysis_status="completed",deployment_strategy="blue-green",name="backend",namespace="test"} 1
# HELP flagger_canary_successes_total Canary runs that ended promoted.
# TYPE flagger_canary_successes_total counter
flagger_canary_successes_total{analysis_status="completed",deployment_strategy="ab-testing",name="frontend",namespace="test"} 1
flagger_canary_successes_total{analysis_status="completed",deployment_strategy="canary",name="podinfo",namespace="test"} 1
flagger_canary_successes_total{analysis_status="skipped",deployment_strategy="canary",name="podinfo",namespace="test"} 1
`
	assert.NoError(t, testutil.CollectAndCompare(r.successes, strings.NewReader(want), "flagger_canary_successes_total"))
	assert.NoError(t, testutil.CollectAndCompare(r.failures, strings.NewReader(want), "flagger_canary_failures_total"))
}

func TestObserveDuration(t *testing.T) {
	lister, _ := newLister(t)
	r := NewReleases(lister)
	r.ObserveDuration(newCanary("test", "podinfo"), 300*time.Millisecond)
	r.ObserveDuration(newCanary("test", "podinfo"), 2*time.Second)

	assert.Equal(t, 1, testutil.CollectAndCount(r.duration, "flagger_canary_duration_seconds"))
	m, err := testutil.CollectAndFormat(r.duration, expfmt.TypeTextPlain, "flagger_canary_duration_seconds")
	require.NoError(t, err)
	assert.Contains(t, string(m), `flagger_canary_duration_seconds_count{name="podinfo",namespace="test"} 2`)
	assert.Contains(t, string(m), `flagger_canary_duration_seconds_sum{name="podinfo",namespace="test"} 2.3`)
}

// TestCollectorsLintClean registers everything on one pedantic registry, as
// cmd/serin does, and lints the exposition.
func TestCollectorsLintClean(t *testing.T) {
	lister, _ := newLister(t, newCanary("test", "podinfo", withPhase(flaggerv1.CanaryPhaseProgressing, 10)))
	r := NewReleases(lister)
	r.ObserveDuration(newCanary("test", "podinfo"), time.Second)
	r.ObserveTransition(newCanary("test", "podinfo"), flaggerv1.CanaryStatus{Phase: flaggerv1.CanaryPhaseFinalising}, flaggerv1.CanaryStatus{Phase: flaggerv1.CanaryPhaseSucceeded})

	for _, c := range append(r.Collectors(), Info("v0.1.0", "gatewayapi:v1")) {
		problems, err := testutil.CollectAndLint(c)
		require.NoError(t, err)
		for _, p := range problems {
			// Flagger's name, kept for its dashboards and alert rules.
			if p.Metric == "flagger_canary_total" && strings.Contains(p.Text, `"_total" suffix`) {
				continue
			}
			t.Errorf("%s: %s", p.Metric, p.Text)
		}
	}
	want := `
# HELP flagger_info Build and configuration of the operator (always 1).
# TYPE flagger_info gauge
flagger_info{mesh_provider="gatewayapi:v1",version="v0.1.0"} 1
`
	assert.NoError(t, testutil.CollectAndCompare(Info("v0.1.0", "gatewayapi:v1"), strings.NewReader(want)))
}
