package judge

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// observeAll runs the samples through the test and returns the last state
// and decision.
func observeAll(t *testing.T, c CountConfig, samples ...Sample) (CountState, Decision) {
	t.Helper()
	var st CountState
	var d Decision
	for _, s := range samples {
		st, d = c.Observe(st, s)
	}
	require.NotNil(t, d.Counts)
	return st, d
}

// mixture is the mean over the alternatives r of the binomial likelihood
// ratio of xc canary bad events among xc+xb, θ(r) = ρr/(ρr+1−ρ), against
// r0, each to the power 1/dispersion: the formula of the package doc,
// written out independently of the code.
func mixture(rho, r0 float64, rs []float64, xc, xb, dispersion float64) float64 {
	theta := func(r float64) float64 { return rho * r / (rho*r + 1 - rho) }
	var sum float64
	for _, r := range rs {
		lr := math.Pow(theta(r)/theta(r0), xc) * math.Pow((1-theta(r))/(1-theta(r0)), xb)
		sum += math.Pow(lr, 1/dispersion)
	}
	return sum / float64(len(rs))
}

func TestObserveEvidence(t *testing.T) {
	origin := sample(0, 0, 0, 0)
	for _, tc := range []struct {
		name     string
		samples  []Sample
		rho      float64 // the canary's share of the batch's requests
		xc, xb   float64
		rf, rp   float64
		disp     float64 // 0: the default, 1
		failWant float64 // hand value, to check the formula itself
	}{
		{
			// r=2: (4/3)^10·(2/3)^2 = 7.89; over 1.25, 1.5, 2, 3, 5, 10 the
			// mean is (2.27+3.96+7.89+14.4+18.4+13.0)/6 ≈ 10.0.
			name: "equal split, 10 canary and 2 baseline errors", samples: []Sample{origin, sample(1000, 2, 1000, 10)},
			rho: 0.5, xc: 10, xb: 2, rf: 1, rp: 1.5, failWant: 10.0,
		},
		{
			// r=2, θ=2/5, θ0=1/4: (8/5)^5·(4/5)^5 = 3.36.
			name: "canary at a quarter of the requests", samples: []Sample{origin, sample(3000, 5, 1000, 5)},
			rho: 0.25, xc: 5, xb: 5, rf: 1, rp: 1.5,
		},
		{
			name: "a tolerated ratio of 2", samples: []Sample{origin, sample(1000, 2, 1000, 10)},
			rho: 0.5, xc: 10, xb: 2, rf: 2, rp: 3,
		},
		{
			name: "dispersion 2", samples: []Sample{origin, sample(1000, 2, 1000, 10)},
			rho: 0.5, xc: 10, xb: 2, rf: 1, rp: 1.5, disp: 2,
		},
		{
			// The canary's counters reset between the two samples: the
			// batch is the same as in the first case.
			name: "a reset of the canary's counters", samples: []Sample{sample(5000, 50, 5000, 50), sample(6000, 52, 1000, 10)},
			rho: 0.5, xc: 10, xb: 2, rf: 1, rp: 1.5, failWant: 10.0,
		},
		{
			// A tick without canary requests waits for the next: one batch.
			name: "a tick without canary requests", samples: []Sample{origin, sample(600, 1, 0, 0), sample(1000, 2, 1000, 10)},
			rho: 0.5, xc: 10, xb: 2, rf: 1, rp: 1.5, failWant: 10.0,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := CountConfig{ToleratedRatio: tc.rf, PassRatio: tc.rp, MinRequests: 1, Dispersion: tc.disp}
			_, d := observeAll(t, c, tc.samples...)
			disp := max(tc.disp, 1)
			fail := mixture(tc.rho, tc.rf, []float64{1.25 * tc.rf, 1.5 * tc.rf, 2 * tc.rf, 3 * tc.rf, 5 * tc.rf, 10 * tc.rf}, tc.xc, tc.xb, disp)
			pass := mixture(tc.rho, tc.rp, []float64{tc.rp / 3, tc.rp / 2, 2 * tc.rp / 3, 0.8 * tc.rp}, tc.xc, tc.xb, disp)
			if tc.failWant != 0 {
				assert.InDelta(t, tc.failWant, fail, 0.1)
			}
			// The summary reports the running maximum, which starts at 1.
			assert.InDelta(t, max(fail, 1), d.Counts.FailEvidence, 1e-9*fail)
			assert.InDelta(t, max(pass, 1), d.Counts.PassEvidence, 1e-9*pass)
		})
	}
}

func TestObserveVerdicts(t *testing.T) {
	origin := sample(0, 0, 0, 0)
	for _, tc := range []struct {
		name    string
		config  CountConfig
		samples []Sample
		verdict Verdict
		reason  string
		says    string // part of the message, where the reason is shared
	}{
		{
			name: "one sample is only the origin", samples: []Sample{sample(5000, 5, 5000, 5)},
			verdict: Inconclusive, reason: ReasonNotEnoughTraffic,
		},
		{
			name: "below the minimum requests of an arm", samples: []Sample{origin, sample(5000, 5, 999, 50)},
			verdict: Inconclusive, reason: ReasonNotEnoughTraffic,
		},
		{
			// Evidence 10.0 (TestObserveEvidence) is below 1/0.01.
			name: "evidence below 1/alpha", config: CountConfig{MinRequests: 1}, samples: []Sample{origin, sample(1000, 2, 1000, 10)},
			verdict: Continue, reason: ReasonNotEnoughEvidence,
		},
		{
			name: "evidence above 1/alpha", config: CountConfig{MinRequests: 1, Alpha: 0.2}, samples: []Sample{origin, sample(1000, 2, 1000, 10)},
			verdict: Fail, reason: ReasonWorse,
		},
		{
			// Pass evidence at r=0.5 alone: (5/9)^50·(5/3)^100/4 = e^21.7/4.
			name: "half the baseline's errors", samples: []Sample{origin, sample(10000, 100, 10000, 50)},
			verdict: Pass, reason: ReasonNoWorse,
		},
		{
			name: "the same with the canary at 40% of the requests", samples: []Sample{origin, sample(15000, 100, 10000, 34)},
			verdict: Inconclusive, reason: ReasonSampleRatio,
		},
		{
			// 2060 of 4000 requests: 51.5%, outside 50% ± 1%, with too few
			// requests for the split test to call it.
			name: "a split outside the tolerance that is not yet a mismatch", config: CountConfig{SplitTolerance: 0.01},
			samples: []Sample{origin, sample(1940, 40, 2060, 10)},
			verdict: Continue, reason: ReasonNotEnoughEvidence, says: "but the canary served 51.5%",
		},
		{
			name: "a failure stands whatever the split", samples: []Sample{origin, sample(15000, 10, 10000, 100)},
			verdict: Fail, reason: ReasonWorse,
		},
		{
			name: "no errors at all", samples: []Sample{origin, sample(100000, 0, 100000, 0)},
			verdict: Continue, reason: ReasonNotEnoughEvidence,
		},
		{
			name: "invalid sample", samples: []Sample{origin, sample(math.NaN(), 0, 1, 0)},
			verdict: Inconclusive, reason: ReasonInvalidSample,
		},
		{
			name: "invalid config", config: CountConfig{ToleratedRatio: 2, PassRatio: 1}, samples: []Sample{origin},
			verdict: Inconclusive, reason: ReasonInvalidConfig,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var st CountState
			var d Decision
			for _, s := range tc.samples {
				st, d = tc.config.Observe(st, s)
			}
			assert.Equal(t, tc.verdict, d.Verdict, d.Message)
			assert.Equal(t, tc.reason, d.Reason, d.Message)
			assert.Contains(t, d.Message, tc.says)
		})
	}
}

// A failure is final: Ville's inequality bounds reaching 1/alpha even once,
// so the evidence that follows cannot take it back.
func TestFailIsFinal(t *testing.T) {
	c := CountConfig{MinRequests: 1, Alpha: 0.2}
	st, d := observeAll(t, c, sample(0, 0, 0, 0), sample(1000, 2, 1000, 10))
	require.Equal(t, Fail, d.Verdict)
	_, d = c.Observe(st, sample(101000, 1002, 101000, 10))
	assert.Equal(t, Fail, d.Verdict)
	assert.Less(t, d.Counts.Canary.Rate, d.Counts.Baseline.Rate, "the rates have turned around since")
}

func TestObserveKeepsItsInput(t *testing.T) {
	c := CountConfig{MinRequests: 1}
	st, _ := observeAll(t, c, sample(0, 0, 0, 0), sample(1000, 2, 1000, 10))
	fail, last := append([]float64(nil), st.FailLogLR...), *st.Last
	c.Observe(st, sample(2000, 2, 2000, 30))
	assert.Equal(t, fail, st.FailLogLR)
	assert.Equal(t, last, *st.Last)
}

func TestObserveInvalidSampleKeepsState(t *testing.T) {
	c := CountConfig{MinRequests: 1}
	st, _ := observeAll(t, c, sample(0, 0, 0, 0), sample(1000, 2, 1000, 10))
	for _, s := range []Sample{sample(-1, 0, 0, 0), sample(0, math.Inf(1), 0, 0), sample(0, 0, 1<<60, 0)} {
		next, d := c.Observe(st, s)
		assert.Equal(t, st, next)
		assert.Equal(t, ReasonInvalidSample, d.Reason)
	}
}

func TestCountConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config CountConfig
		ok     bool
	}{
		{"defaults", CountConfig{}, true},
		{"tolerated ratio 1.2, pass ratio defaulted to 1.8", CountConfig{ToleratedRatio: 1.2}, true},
		{"alpha 1", CountConfig{Alpha: 1}, false},
		{"negative beta", CountConfig{Beta: -0.1}, false},
		{"NaN ratio", CountConfig{ToleratedRatio: math.NaN()}, false},
		{"pass ratio below the tolerated ratio", CountConfig{ToleratedRatio: 2, PassRatio: 1.5}, false},
		{"negative minimum", CountConfig{MinRequests: -1}, false},
		{"share 1", CountConfig{ExpectedShare: 1}, false},
		{"tolerance wider than the share", CountConfig{ExpectedShare: 0.1, SplitTolerance: 0.1}, false},
		{"dispersion below 1", CountConfig{Dispersion: 0.5}, false},
		{"dispersion 3", CountConfig{Dispersion: 3}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.config.Validate()
			if tc.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}
