package judge

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMannWhitney(t *testing.T) {
	for _, tc := range []struct {
		name          string
		baseline      []float64
		canary        []float64
		u, p, z       float64
		exact         bool
		effect, shift float64
	}{
		{
			// One ordering of C(6,3) = 20 has every canary value on top.
			name: "3 against 3, canary above", baseline: []float64{1, 2, 3}, canary: []float64{4, 5, 6},
			u: 9, p: 1.0 / 20, exact: true, effect: 1, shift: 3,
		},
		{
			// U over the 20 orderings of 3+3 counts 1,1,2,3,3,3,3,2,1,1 for
			// u = 0..9: P(U ≥ 6) = 7/20.
			name: "3 against 3, interleaved", baseline: []float64{1, 3, 5}, canary: []float64{2, 4, 6},
			u: 6, p: 7.0 / 20, exact: true, effect: 6.0 / 9, shift: 1,
		},
		{
			// One ordering of C(10,5) = 252; differences 6..14, median 10.
			name: "5 against 5, canary above", baseline: []float64{1, 2, 3, 4, 5}, canary: []float64{11, 12, 13, 14, 15},
			u: 25, p: 1.0 / 252, exact: true, effect: 1, shift: 10,
		},
		{
			name: "3 against 3, canary below", baseline: []float64{4, 5, 6}, canary: []float64{1, 2, 3},
			u: 0, p: 1, exact: true, effect: 0, shift: -3,
		},
		{
			// Mid-ranks 1, 3,3,3, 5.5,5.5, 7, 8.5,8.5, 10, 11, 12: the canary's
			// sum is 50, U = 50 − 21 = 29. Ties 3, 2, 2: Σ(t³−t) = 36, so
			// Var U = 36/12·(13 − 36/132) and z = (29 − 18 − 0.5)/sd. Of the
			// 36 differences 18 are ≤ 2 and 23 ≤ 3: the median is 2.5.
			name: "6 against 6 with ties", baseline: []float64{1, 2, 2, 3, 4, 5}, canary: []float64{2, 3, 5, 6, 7, 8},
			u: 29, z: 10.5 / math.Sqrt(3*(13-36.0/132)), effect: 29.0 / 36, shift: 2.5,
		},
		{
			name: "all tied", baseline: []float64{1, 1, 1}, canary: []float64{1, 1, 1},
			u: 4.5, p: 1, effect: 0.5, shift: 0,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s RankSummary
			mannWhitney(tc.baseline, tc.canary, &s)
			assert.Equal(t, tc.u, s.U)
			assert.Equal(t, tc.exact, s.Exact)
			p := tc.p
			if tc.z != 0 {
				p = 0.5 * math.Erfc(tc.z/math.Sqrt2)
				assert.InDelta(t, tc.z, s.Z, 1e-12)
			}
			assert.InDelta(t, p, s.PValue, 1e-12)
			assert.InDelta(t, tc.effect, s.Effect, 1e-12)
			assert.InDelta(t, 2*tc.effect-1, s.RankBiserial, 1e-12)
			assert.Equal(t, tc.shift, hodgesLehmann(tc.baseline, tc.canary))
		})
	}
}

// Above 30 points the normal approximation takes over; where both apply
// they must agree, or the switch would move decisions.
func TestExactAgreesWithNormal(t *testing.T) {
	const n = 30
	mean, sd := n*n/2.0, math.Sqrt(n*n*(2*n+1)/12.0)
	for _, u := range []int{450, 500, 550, 600} {
		normal := 0.5 * math.Erfc((float64(u)-mean-0.5)/sd/math.Sqrt2)
		assert.InDelta(t, normal, exactUpperTail(n, n, u), 0.002, "u=%d", u)
	}
}

func TestCompare(t *testing.T) {
	base := []float64{100, 102, 98, 101, 99, 100, 103, 97}
	slower := []float64{120, 118, 125, 121, 119, 122, 124, 117}
	for _, tc := range []struct {
		name             string
		config           RankConfig
		baseline, canary []float64
		verdict          Verdict
		reason           string
	}{
		{"20% slower", RankConfig{}, base, slower, Fail, ReasonWorse},
		{"20% slower, 25% tolerated", RankConfig{ToleratedShift: 0.25}, base, slower, Pass, ReasonShiftTolerated},
		{"the same", RankConfig{}, base, base, Pass, ReasonNoSignificantShift},
		{"faster", RankConfig{}, slower, base, Pass, ReasonNoSignificantShift},
		{"less throughput where less is worse", RankConfig{LowerIsWorse: true}, slower, base, Fail, ReasonWorse},
		{"too few points", RankConfig{}, base[:4], slower, Inconclusive, ReasonNotEnoughPoints},
		{"ticks without data are left out", RankConfig{}, []float64{1, math.NaN(), 2, 3, 4}, slower, Inconclusive, ReasonNotEnoughPoints},
		{"invalid config", RankConfig{Alpha: 2}, base, slower, Inconclusive, ReasonInvalidConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.config.Compare(tc.baseline, tc.canary)
			assert.Equal(t, tc.verdict, d.Verdict, d.Message)
			assert.Equal(t, tc.reason, d.Reason, d.Message)
			assert.NotEmpty(t, d.Message)
		})
	}
}

func TestCompareSummary(t *testing.T) {
	d := RankConfig{LowerIsWorse: true, ToleratedShift: 0.1}.Compare([]float64{10, 11, 12, 13, 14}, []float64{1, 2, 3, 4, 5})
	require.NotNil(t, d.Ranks)
	s := d.Ranks
	// Medians are shown as measured; the shift is in the worse direction.
	assert.Equal(t, 12.0, s.BaselineMedian)
	assert.Equal(t, 3.0, s.CanaryMedian)
	assert.Equal(t, 9.0, s.Shift)
	assert.InDelta(t, 1.2, s.ShiftTolerance, 1e-12)
	assert.InDelta(t, 1.0/252, s.PValue, 1e-12)
	assert.Equal(t, Fail, d.Verdict)
}
