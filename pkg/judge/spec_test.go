package judge

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

func comparedMetric(name string, kind flaggerv1.ComparisonKind, mod ...func(*flaggerv1.MetricComparison)) flaggerv1.CanaryMetric {
	m := flaggerv1.CanaryMetric{
		Name:        name,
		TemplateRef: &flaggerv1.CrossNamespaceObjectReference{Name: name},
		Compare:     &flaggerv1.MetricComparison{Kind: kind},
	}
	if kind == flaggerv1.CountComparison {
		m.Compare.TotalTemplateRef = &flaggerv1.CrossNamespaceObjectReference{Name: "requests"}
	}
	for _, f := range mod {
		f(m.Compare)
	}
	return m
}

func TestCountConfigFor(t *testing.T) {
	judge := &flaggerv1.CanaryJudge{Baseline: true, Alpha: "0.05", Beta: ".1", MinRequests: 200}
	c, err := CountConfigFor(judge, comparedMetric("errors", flaggerv1.CountComparison,
		func(m *flaggerv1.MetricComparison) { m.Tolerance = "1.2" }), 0)
	require.NoError(t, err)
	assert.Equal(t, CountConfig{Alpha: 0.05, Beta: 0.1, MinRequests: 200, ToleratedRatio: 1.2}, c)

	c, err = CountConfigFor(nil, comparedMetric("errors", flaggerv1.CountComparison), 0)
	require.NoError(t, err)
	assert.Equal(t, CountConfig{}.WithDefaults(), c.WithDefaults(), "unset fields keep the defaults")

	tests := []struct {
		name  string
		judge *flaggerv1.CanaryJudge
		tol   string
		want  string
	}{
		{"alpha not a number", &flaggerv1.CanaryJudge{Alpha: "abc"}, "", `spec.analysis.judge.alpha: "abc" is not a number strictly between 0 and 1`},
		{"alpha 1", &flaggerv1.CanaryJudge{Alpha: "1"}, "", "spec.analysis.judge.alpha"},
		{"beta 0", &flaggerv1.CanaryJudge{Beta: "0"}, "", `spec.analysis.judge.beta: "0"`},
		{"negative minimum", &flaggerv1.CanaryJudge{MinRequests: -1}, "", "spec.analysis.judge.minRequests: -1 is negative"},
		{"tolerance not a number", nil, "x", `spec.analysis.metrics[3].compare.tolerance: "x" is not a decimal number`},
		{"tolerance 0", nil, "0", "spec.analysis.metrics[3].compare.tolerance: 0 is not a ratio"},
		{"tolerance NaN", nil, "NaN", "spec.analysis.metrics[3].compare.tolerance"},
		{"tolerance huge", nil, "1e9", "spec.analysis.metrics[3].compare.tolerance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CountConfigFor(tt.judge, comparedMetric("errors", flaggerv1.CountComparison,
				func(m *flaggerv1.MetricComparison) { m.Tolerance = tt.tol }), 3)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestRankConfigFor(t *testing.T) {
	c, err := RankConfigFor(&flaggerv1.CanaryJudge{Alpha: "0.02"}, comparedMetric("latency", flaggerv1.ContinuousComparison,
		func(m *flaggerv1.MetricComparison) { m.Tolerance = "0.1"; m.LowerIsWorse = true }), 1)
	require.NoError(t, err)
	assert.Equal(t, RankConfig{Alpha: 0.02, ToleratedShift: 0.1, LowerIsWorse: true}, c)

	c, err = RankConfigFor(nil, comparedMetric("latency", flaggerv1.ContinuousComparison), 1)
	require.NoError(t, err)
	assert.Equal(t, RankConfig{}, c, "a shift of 0 is the default: any significant shift fails")

	_, err = RankConfigFor(nil, comparedMetric("latency", flaggerv1.ContinuousComparison,
		func(m *flaggerv1.MetricComparison) { m.Tolerance = "-1" }), 1)
	assert.ErrorContains(t, err, "spec.analysis.metrics[1].compare.tolerance")
}

func weighted(mod ...func(*flaggerv1.CanaryAnalysis)) *flaggerv1.CanaryAnalysis {
	a := &flaggerv1.CanaryAnalysis{
		StepWeight: 10, MaxWeight: 50,
		Judge: &flaggerv1.CanaryJudge{Baseline: true},
		Metrics: []flaggerv1.CanaryMetric{
			{Name: "request-success-rate"},
			comparedMetric("errors", flaggerv1.CountComparison),
			comparedMetric("latency", flaggerv1.ContinuousComparison),
		},
	}
	for _, m := range mod {
		m(a)
	}
	return a
}

func TestValidateJudge(t *testing.T) {
	require.NoError(t, ValidateJudge(nil))
	require.NoError(t, ValidateJudge(&flaggerv1.CanaryAnalysis{Iterations: 10}), "no judge, nothing compared")
	require.NoError(t, ValidateJudge(weighted()))
	require.NoError(t, ValidateJudge(weighted(func(a *flaggerv1.CanaryAnalysis) { a.MaxWeight = 0; a.StepWeights = []int{5, 20, 50} })))

	tests := []struct {
		name string
		mod  func(*flaggerv1.CanaryAnalysis)
		want []string
	}{
		{"compare without a baseline", func(a *flaggerv1.CanaryAnalysis) { a.Judge = nil },
			[]string{"spec.analysis.metrics[1].compare: needs spec.analysis.judge.baseline: true", "spec.analysis.metrics[2].compare: needs"}},
		{"baseline off", func(a *flaggerv1.CanaryAnalysis) { a.Judge.Baseline = false },
			[]string{"spec.analysis.metrics[1].compare: needs spec.analysis.judge.baseline"}},
		{"count without a total", func(a *flaggerv1.CanaryAnalysis) { a.Metrics[1].Compare.TotalTemplateRef = nil },
			[]string{"spec.analysis.metrics[1].compare.totalTemplateRef: required for a count comparison"}},
		{"unknown kind", func(a *flaggerv1.CanaryAnalysis) { a.Metrics[2].Compare.Kind = "quantile" },
			[]string{`spec.analysis.metrics[2].compare.kind: "quantile" is neither count nor continuous`}},
		{"builtin compared", func(a *flaggerv1.CanaryAnalysis) { a.Metrics[1].TemplateRef = nil },
			[]string{"spec.analysis.metrics[1].templateRef: a compared metric needs a MetricTemplate"}},
		{"same name twice", func(a *flaggerv1.CanaryAnalysis) { a.Metrics[2].Name = "errors" },
			[]string{`spec.analysis.metrics[2].name: "errors" is compared twice`}},
		{"alpha out of range, said once", func(a *flaggerv1.CanaryAnalysis) { a.Judge.Alpha = "1.5" },
			[]string{`spec.analysis.judge.alpha: "1.5" is not a number strictly between 0 and 1`}},
		{"beta out of range without compared metrics", func(a *flaggerv1.CanaryAnalysis) {
			a.Metrics = nil
			a.Judge.Beta = "2"
		}, []string{"spec.analysis.judge.beta"}},
		{"A/B", func(a *flaggerv1.CanaryAnalysis) { a.Match = []flaggerv1.HTTPMatchRequest{{}} },
			[]string{"spec.analysis.judge.baseline: an A/B analysis"}},
		{"mirroring", func(a *flaggerv1.CanaryAnalysis) { a.Mirror = true },
			[]string{"spec.analysis.judge.baseline: a mirrored analysis"}},
		{"blue/green", func(a *flaggerv1.CanaryAnalysis) { a.StepWeight = 0; a.Iterations = 10 },
			[]string{"spec.analysis.judge.baseline: needs a weighted analysis"}},
		{"max weight above 50", func(a *flaggerv1.CanaryAnalysis) { a.MaxWeight = 60 },
			[]string{"spec.analysis.maxWeight: 60 leaves the primary less"}},
		{"last step above 50", func(a *flaggerv1.CanaryAnalysis) { a.StepWeight = 0; a.MaxWeight = 0; a.StepWeights = []int{10, 80} },
			[]string{"spec.analysis.stepWeights: 80"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateJudge(weighted(tt.mod))
			require.Error(t, err)
			for _, want := range tt.want {
				assert.Contains(t, err.Error(), want)
			}
		})
	}

	err := ValidateJudge(weighted(func(a *flaggerv1.CanaryAnalysis) { a.Judge.Alpha = "x" }))
	require.Error(t, err)
	assert.Equal(t, `spec.analysis.judge.alpha: "x" is not a number strictly between 0 and 1`, err.Error(),
		"checked with each compared metric, said once")
}
