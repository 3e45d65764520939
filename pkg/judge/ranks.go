package judge

import (
	"fmt"
	"math"
	"slices"
)

// RankConfig sets the Mann-Whitney comparison of a continuous metric. A
// zero field takes its default.
type RankConfig struct {
	// Alpha is the one-sided significance level. Default 0.01.
	Alpha float64
	// ToleratedShift is the largest Hodges-Lehmann shift that passes, as a
	// fraction of the baseline's median (0.1: the canary may be 10% worse).
	// Default 0: any significant shift fails.
	ToleratedShift float64
	// MinPoints is how many values each arm needs. Default 5.
	MinPoints int
	// LowerIsWorse is for metrics where less is worse (throughput); by
	// default more is worse (latency, CPU, memory).
	LowerIsWorse bool
}

// DefaultMinPoints is RankConfig's default MinPoints: with 5 points per arm
// the smallest exact one-sided p-value is 1/252, below the default Alpha.
const DefaultMinPoints = 5

// maxExactPoints bounds the exact p-value's table (points per arm).
const maxExactPoints = 30

// WithDefaults returns c with every zero field set to its default.
func (c RankConfig) WithDefaults() RankConfig {
	setDefault(&c.Alpha, DefaultAlpha)
	if c.MinPoints == 0 {
		c.MinPoints = DefaultMinPoints
	}
	return c
}

// Validate returns what is wrong with c once defaulted, for admission.
func (c RankConfig) Validate() error {
	c = c.WithDefaults()
	switch {
	case !open01(c.Alpha):
		return fmt.Errorf("alpha %v is not in (0, 1)", c.Alpha)
	case !(c.ToleratedShift >= 0 && c.ToleratedShift < 1e6):
		return fmt.Errorf("tolerated shift %v is not in [0, 1e6)", c.ToleratedShift)
	case c.MinPoints < 2:
		return fmt.Errorf("minimum points %d is below 2", c.MinPoints)
	}
	return nil
}

// Compare judges the per-tick values of a continuous metric in both arms:
// Fail when the canary is significantly worse by more than the tolerated
// shift, Pass otherwise, Inconclusive with too few values. Values that are
// not finite (a tick without data) are left out. It is a fixed-horizon
// test: call it once, at the end of the analysis, to keep Alpha.
func (c RankConfig) Compare(baseline, canary []float64) Decision {
	if err := c.Validate(); err != nil {
		return Decision{Verdict: Inconclusive, Reason: ReasonInvalidConfig, Message: err.Error()}
	}
	c = c.WithDefaults()
	b, k := c.oriented(baseline), c.oriented(canary)
	sum := RankSummary{BaselinePoints: len(b), CanaryPoints: len(k), Alpha: c.Alpha}
	d := Decision{Ranks: &sum}
	if min(len(b), len(k)) < c.MinPoints {
		d.Verdict, d.Reason = Inconclusive, ReasonNotEnoughPoints
		d.Message = fmt.Sprintf("baseline has %d values and canary %d, below the minimum of %d per arm", len(b), len(k), c.MinPoints)
		return d
	}
	mannWhitney(b, k, &sum)
	sum.BaselineMedian, sum.CanaryMedian = c.unoriented(median(b)), c.unoriented(median(k))
	sum.Shift = finite(hodgesLehmann(b, k))
	sum.ShiftTolerance = finite(c.ToleratedShift * math.Abs(median(b)))
	switch {
	case sum.PValue >= c.Alpha:
		d.Verdict, d.Reason = Pass, ReasonNoSignificantShift
		d.Message = fmt.Sprintf("canary median %.4g, baseline %.4g: p-value %.3g is not below alpha %.3g (effect %.2f)",
			sum.CanaryMedian, sum.BaselineMedian, sum.PValue, c.Alpha, sum.Effect)
	case sum.Shift <= sum.ShiftTolerance:
		d.Verdict, d.Reason = Pass, ReasonShiftTolerated
		d.Message = fmt.Sprintf("canary is worse (p-value %.3g, effect %.2f) by %.4g, within the tolerated %.4g",
			sum.PValue, sum.Effect, sum.Shift, sum.ShiftTolerance)
	default:
		d.Verdict, d.Reason = Fail, ReasonWorse
		d.Message = fmt.Sprintf("canary median %.4g is worse than baseline %.4g by %.4g, more than the tolerated %.4g: p-value %.3g below alpha %.3g (effect %.2f)",
			sum.CanaryMedian, sum.BaselineMedian, sum.Shift, sum.ShiftTolerance, sum.PValue, c.Alpha, sum.Effect)
	}
	return d
}

// oriented keeps the finite values, negated when lower is worse, so that
// larger is always worse.
func (c RankConfig) oriented(vs []float64) []float64 {
	out := make([]float64, 0, len(vs))
	for _, v := range vs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out = append(out, c.unoriented(v))
		}
	}
	return out
}

// unoriented undoes oriented for a value shown to the user (negation is its
// own inverse).
func (c RankConfig) unoriented(v float64) float64 {
	if c.LowerIsWorse {
		return -v
	}
	return v
}

func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return s[n/2-1]/2 + s[n/2]/2 // halves first: no overflow
}

// finite clamps an overflowed difference or product to the largest float,
// so that a Decision stays writable as JSON.
func finite(v float64) float64 {
	return max(-math.MaxFloat64, min(v, math.MaxFloat64))
}

// hodgesLehmann is the median of every canary-minus-baseline difference,
// the shift estimate that goes with the Mann-Whitney test.
func hodgesLehmann(b, k []float64) float64 {
	diffs := make([]float64, 0, len(b)*len(k))
	for _, x := range b {
		for _, y := range k {
			diffs = append(diffs, y-x)
		}
	}
	return median(diffs)
}
