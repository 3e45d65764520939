package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
	"github.com/serin-dev/serin/pkg/history"
)

var tick0 = time.Date(2026, 12, 6, 0, 34, 42, 0, time.UTC)

func failedRun() history.Run {
	fail := func(i int, v string) history.Entry {
		return history.Entry{
			Time: tick0.Add(time.Duration(i) * 10 * time.Second), Phase: flaggerv1.CanaryPhaseProgressing, Weight: 10, FailedChecks: i,
			Checks: []flaggerv1.CheckResult{
				{Kind: flaggerv1.WebhookCheck, Name: "load-test", Type: "rollout", Verdict: flaggerv1.CheckPass},
				{Kind: flaggerv1.MetricCheck, Name: "error-rate", Value: v, Threshold: "max 1", Verdict: flaggerv1.CheckFail,
					Message: "Halt podinfo.test advancement error-rate " + v + " > 1"},
			},
			Events: []history.Event{{Type: "Warning", Message: "Halt podinfo.test advancement error-rate " + v + " > 1"}},
		}
	}
	return history.Run{Number: 3, Entries: []history.Entry{
		{Time: tick0.Add(-10 * time.Second), Phase: flaggerv1.CanaryPhaseProgressing, Revision: "aaa0a5e254cd244f",
			Events: []history.Event{{Type: "Normal", Message: "New revision detected! Scaling up podinfo.test"}}},
		fail(1, "56.280775048658874"),
		fail(2, "60.00000000000001"),
		{Time: tick0.Add(30 * time.Second), Phase: flaggerv1.CanaryPhaseFailed, FailedChecks: 2, Events: []history.Event{
			{Type: "Warning", Message: "Rolling back podinfo.test failed checks threshold reached 2"},
			{Type: "Warning", Message: "Canary failed! Scaling down podinfo.test"},
		}},
	}}
}

func TestRenderRun(t *testing.T) {
	cd := &flaggerv1.Canary{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test"}}
	out := renderRun(cd, failedRun(), false)
	for _, want := range []string{
		"Run 3 of test/podinfo, revision aaa0a5e254cd244f\n",
		"00:34:52  Progressing  10      1       rollout webhook load-test: Pass\n",
		"metric error-rate = 56.2808 (max 1): Fail: Halt podinfo.test advancement error-rate 56.280775048658874 > 1\n",
		"metric error-rate = 60 (max 1): Fail",
		"Outcome: Failed: Rolling back podinfo.test failed checks threshold reached 2\n",
	} {
		assert.Contains(t, out, want)
	}
}

func TestOutcome(t *testing.T) {
	run := failedRun()
	phase, why, err := outcome(run)
	require.NoError(t, err)
	assert.Equal(t, flaggerv1.CanaryPhaseFailed, phase)
	assert.Equal(t, "Rolling back podinfo.test failed checks threshold reached 2", why, "the first warning of the tick that rolled back")

	running := history.Run{Number: 1, Entries: run.Entries[:2]}
	_, _, err = outcome(running)
	assert.ErrorIs(t, err, errNoOutcome)

	succeeded := history.Run{Number: 1, Entries: []history.Entry{{Phase: flaggerv1.CanaryPhaseSucceeded,
		Events: []history.Event{{Type: "Normal", Message: "Routing all traffic to primary"}, {Type: "Normal", Message: "Promotion completed! Scaling down podinfo.test"}}}}}
	_, why, err = outcome(succeeded)
	require.NoError(t, err)
	assert.Equal(t, "Promotion completed! Scaling down podinfo.test", why)

	_, _, err = outcome(history.Run{})
	assert.ErrorIs(t, err, errNoOutcome)
}

func TestParseSet(t *testing.T) {
	tests := map[string]struct {
		in            string
		metric, bound string
		v             float64
		err           string
	}{
		"max":                    {in: "error-rate.max=2", metric: "error-rate", bound: "max", v: 2},
		"a dotted metric name":   {in: "a.b.min=0.5", metric: "a.b", bound: "min", v: 0.5},
		"no bound":               {in: "error-rate=2", err: "want METRIC.min=V or METRIC.max=V"},
		"an unknown bound":       {in: "error-rate.limit=2", err: `the bound is min or max, not "limit"`},
		"not a number":           {in: "error-rate.max=two", err: `"two" is not a number`},
		"NaN is not a number":    {in: "error-rate.max=NaN", err: "is not a number"},
		"nothing before the dot": {in: ".max=1", err: "want METRIC.min=V"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			metric, bound, v, err := parseSet(tt.in)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []any{tt.metric, tt.bound, tt.v}, []any{metric, bound, v})
		})
	}
}

func TestApplySets(t *testing.T) {
	cd := &flaggerv1.Canary{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test"},
		Spec: flaggerv1.CanarySpec{Analysis: &flaggerv1.CanaryAnalysis{Metrics: []flaggerv1.CanaryMetric{
			{Name: "request-success-rate", Threshold: 99},
			{Name: "error-rate", ThresholdRange: &flaggerv1.CanaryThresholdRange{Max: ptr.To(1.0)}},
		}}}}
	require.NoError(t, applySets(cd, []string{"error-rate.max=2", "request-success-rate.max=100"}))
	m := cd.Spec.Analysis.Metrics
	assert.Equal(t, 2.0, *m[1].ThresholdRange.Max)
	assert.Equal(t, 99.0, *m[0].ThresholdRange.Min, "the legacy threshold of the success rate stays its minimum")
	assert.Equal(t, 100.0, *m[0].ThresholdRange.Max)

	err := applySets(cd, []string{"latency.max=1"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `test/podinfo has no metric "latency"`)
}

func TestReplaySaysWhenPrometheusCannotBeReached(t *testing.T) {
	c := &cli{opts: &options{}}
	cd := &flaggerv1.Canary{ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: "test"},
		Spec: flaggerv1.CanarySpec{Analysis: &flaggerv1.CanaryAnalysis{Threshold: 1, Metrics: []flaggerv1.CanaryMetric{
			{Name: "error-rate", ThresholdRange: &flaggerv1.CanaryThresholdRange{Max: ptr.To(1.0)}},
		}}}}
	run := history.Run{Number: 1, Entries: []history.Entry{{Checks: []flaggerv1.CheckResult{{
		Kind: flaggerv1.MetricCheck, Name: "error-rate", Type: "prometheus", Query: "vector(1)",
		Address: "http://127.0.0.1:1", EvaluatedAt: metav1.NewTime(tick0), Value: "0.5", Verdict: flaggerv1.CheckPass,
	}}}}}
	_, err := c.replayRun(t.Context(), cd, run)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is http://127.0.0.1:1 reachable from here? try kubectl port-forward and --metrics-url")
}
