package judge

import (
	"fmt"
	"math"
)

// failGrid and passGrid are the alternatives of the two mixtures, as
// multiples of ToleratedRatio and PassRatio. Equal weights: the test is
// as quick for a 1.5× canary as for a 10× one, up to log(len) of evidence.
var (
	failGrid = []float64{1.25, 1.5, 2, 3, 5, 10}
	passGrid = []float64{1.0 / 3, 0.5, 2.0 / 3, 0.8}
)

// CountState is everything the count test carries from one tick to the
// next. The zero value starts an analysis. Store it as it is (floats
// round-trip through strconv.FormatFloat(v, 'g', -1, 64)).
type CountState struct {
	// Ticks counts the valid samples observed.
	Ticks int `json:"ticks"`
	// Last is the previous sample; the first sample is the origin of the
	// differences.
	Last *Sample `json:"last,omitempty"`
	// Total is the sum of the increments since the first sample.
	Total Sample `json:"total"`
	// Pending holds increments not yet in the evidence, while an arm has
	// served no request since the last update.
	Pending Sample `json:"pending"`
	// FailLogLR and PassLogLR are the log likelihood ratios of the
	// alternatives of failGrid and passGrid.
	FailLogLR []float64 `json:"failLogLR,omitempty"`
	PassLogLR []float64 `json:"passLogLR,omitempty"`
	// The running maxima of the log evidence: Ville's inequality bounds the
	// probability that the evidence ever reaches its threshold, so reaching
	// it once decides.
	MaxLogFail  float64 `json:"maxLogFail"`
	MaxLogPass  float64 `json:"maxLogPass"`
	MaxLogSplit float64 `json:"maxLogSplit"`
}

// Observe folds one tick's cumulative counters into the state and decides.
// It does not modify st. An invalid config or sample (negative, NaN, above
// 2^53) leaves the state as it was and is Inconclusive.
func (c CountConfig) Observe(st CountState, s Sample) (CountState, Decision) {
	if err := c.Validate(); err != nil {
		return st, Decision{Verdict: Inconclusive, Reason: ReasonInvalidConfig, Message: err.Error()}
	}
	c = c.WithDefaults()
	if !s.valid() {
		return st, Decision{Verdict: Inconclusive, Reason: ReasonInvalidSample,
			Message: fmt.Sprintf("counters must be numbers in [0, 2^53]: %+v", s)}
	}
	next := st
	next.FailLogLR = grow(st.FailLogLR, len(failGrid))
	next.PassLogLR = grow(st.PassLogLR, len(passGrid))
	next.Ticks++
	last := s
	next.Last = &last
	if st.Last != nil {
		d := s.Delta(*st.Last)
		next.Total = st.Total.add(d)
		next.Pending = st.Pending.add(d)
	}
	if p := next.Pending; p.Baseline.Requests > 0 && p.Canary.Requests > 0 {
		c.accumulate(next.FailLogLR, failGrid, c.ToleratedRatio, p)
		c.accumulate(next.PassLogLR, passGrid, c.PassRatio, p)
		next.Pending = Sample{}
	}
	next.MaxLogFail = max(st.MaxLogFail, logMean(next.FailLogLR))
	next.MaxLogPass = max(st.MaxLogPass, logMean(next.PassLogLR))
	next.MaxLogSplit = max(st.MaxLogSplit, c.logSplitEvidence(next.Total))
	return next, c.decide(next)
}

// grow copies logLR (nil in a new state) with n entries.
func grow(logLR []float64, n int) []float64 {
	out := make([]float64, n)
	copy(out, logLR)
	return out
}

// accumulate multiplies each alternative's likelihood ratio by that of the
// batch p: the canary's bad events among all bad events are binomial with
// probability θ(r) = ρr/(ρr+1−ρ), ρ the canary's share of the requests.
func (c CountConfig) accumulate(logLR, grid []float64, r0 float64, p Sample) {
	nc, nb := p.Canary.Requests, p.Baseline.Requests
	logTheta0, logNotTheta0 := logTheta(nc, nb, r0)
	for i, m := range grid {
		logTheta, logNotTheta := logTheta(nc, nb, m*r0)
		logLR[i] += (xlogy(p.Canary.Bad, logTheta-logTheta0) + xlogy(p.Baseline.Bad, logNotTheta-logNotTheta0)) / c.Dispersion
	}
}

// logTheta returns log θ(r) and log(1−θ(r)), written with the requests nc
// and nb (θ = nc·r/(nc·r+nb)) so that a lopsided batch does not round 1−ρ
// to zero.
func logTheta(nc, nb, r float64) (float64, float64) {
	denom := math.Log(nc*r + nb)
	return math.Log(nc*r) - denom, math.Log(nb) - denom
}

// xlogy is x·y with 0·anything = 0: an arm without bad events adds nothing.
func xlogy(x, y float64) float64 {
	if x == 0 {
		return 0
	}
	return x * y
}

// logMean is the log of the mean of exp(logs), without overflow.
func logMean(logs []float64) float64 {
	top := math.Inf(-1)
	for _, l := range logs {
		top = max(top, l)
	}
	var sum float64
	for _, l := range logs {
		sum += math.Exp(l - top)
	}
	return top + math.Log(sum/float64(len(logs)))
}
