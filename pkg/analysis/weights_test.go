package analysis

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// canaryWith returns a canary with analysis a (none when a is nil).
func canaryWith(a *v1beta1.CanaryAnalysis) *v1beta1.Canary {
	return newCanary(withSpec(func(s *v1beta1.CanarySpec) { s.Analysis = a }))
}

func TestNextWeight(t *testing.T) {
	step10 := &v1beta1.CanaryAnalysis{StepWeight: 10, MaxWeight: 50}
	step20 := &v1beta1.CanaryAnalysis{StepWeight: 20, MaxWeight: 50}
	ladder := &v1beta1.CanaryAnalysis{StepWeights: []int{1, 2, 10, 80}}
	both := &v1beta1.CanaryAnalysis{StepWeight: 25, StepWeights: []int{1, 2, 10, 80}}
	cases := []struct {
		name    string
		a       *v1beta1.CanaryAnalysis
		current int
		want    int
	}{
		{"first step", step10, 0, 10},
		{"middle step", step10, 30, 40},
		{"last step lands on max", step10, 40, 50},
		{"at max stays", step10, 50, 50},
		{"never overshoots max", step20, 40, 50},
		{"ladder first rung", ladder, 0, 1},
		{"ladder second rung", ladder, 1, 2},
		{"ladder third rung", ladder, 2, 10},
		{"ladder last rung", ladder, 10, 80},
		{"ladder top stays", ladder, 80, 80},
		{"off the ladder goes to the next rung", ladder, 5, 10},
		{"stepWeight wins over stepWeights", both, 0, 25},
		{"stepWeight wins, capped by the last rung", both, 75, 80},
		{"maxWeight unset means 100", &v1beta1.CanaryAnalysis{StepWeight: 30}, 90, 100},
		{"nothing to step", &v1beta1.CanaryAnalysis{}, 0, 0},
		{"no analysis", nil, 30, 30},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, NextWeight(canaryWith(tc.a), tc.current))
		})
	}
}

// TestWeightLadder walks a stepWeights ladder the way stepCanary does: each
// weight until NextWeight stops increasing, which is the promotion.
func TestWeightLadder(t *testing.T) {
	cases := []struct {
		a    *v1beta1.CanaryAnalysis
		want []int
	}{
		{&v1beta1.CanaryAnalysis{StepWeights: []int{1, 2, 10, 80}}, []int{1, 2, 10, 80}},
		{&v1beta1.CanaryAnalysis{StepWeight: 10, MaxWeight: 50}, []int{10, 20, 30, 40, 50}},
		{&v1beta1.CanaryAnalysis{StepWeight: 30}, []int{30, 60, 90, 100}},
		{&v1beta1.CanaryAnalysis{StepWeights: []int{25, 100}}, []int{25, 100}},
	}
	for _, tc := range cases {
		c := canaryWith(tc.a)
		var got []int
		for w := 0; ; {
			next := NextWeight(c, w)
			if w >= c.GetMaxWeight() || next <= w {
				break
			}
			w = next
			got = append(got, w)
		}
		assert.Equal(t, tc.want, got)
	}
}

func TestPromotionStep(t *testing.T) {
	cases := []struct {
		routes        Routes
		step          int
		primary, cnry int
	}{
		{Routes{Primary: 50, Canary: 50}, 20, 70, 30},
		{Routes{Primary: 90, Canary: 10}, 20, 100, 0},
		{Routes{Primary: 0, Canary: 100}, 40, 40, 60},
	}
	for _, tc := range cases {
		p, c := promotionStep(tc.routes, tc.step)
		assert.Equal(t, []int{tc.primary, tc.cnry}, []int{p, c})
	}
}

func TestStrategyOf(t *testing.T) {
	match := []v1beta1.HTTPMatchRequest{{}}
	assert.Equal(t, StrategyCanary, StrategyOf(nil))
	assert.Equal(t, StrategyCanary, StrategyOf(&v1beta1.CanaryAnalysis{StepWeight: 10}))
	assert.Equal(t, StrategyCanary, StrategyOf(&v1beta1.CanaryAnalysis{Match: match, StepWeight: 10}))
	assert.Equal(t, StrategyBlueGreen, StrategyOf(&v1beta1.CanaryAnalysis{Iterations: 10, StepWeight: 10}))
	assert.Equal(t, StrategyABTesting, StrategyOf(&v1beta1.CanaryAnalysis{Iterations: 10, Match: match}))
}
