package judge

import "math"

// splitConcentration is a+b of the Beta prior on the canary's share, centred
// on the expected share: its standard deviation, about 0.05 at a share of
// one half, puts the test's power on mismatches of a few percent, the size
// that a dropping canary or a misapplied weight produces.
const splitConcentration = 100

// logSplitEvidence is the log Bayes factor of the canary's share of the
// requests in t: a Beta(q·C, (1−q)·C) mixture over the share against the
// likeliest share within ExpectedShare ± SplitTolerance. For every share q0
// in that interval the mixture over the likelihood at q0 is a test
// martingale, and the denominator is at least that likelihood, so the ratio
// is bounded by a test martingale whatever the share in the interval.
func (c CountConfig) logSplitEvidence(t Sample) float64 {
	nc, nb := t.Canary.Requests, t.Baseline.Requests
	if nc+nb == 0 {
		return 0
	}
	q := c.ExpectedShare
	a, b := q*splitConcentration, (1-q)*splitConcentration
	best := min(max(nc/(nc+nb), q-c.SplitTolerance), q+c.SplitTolerance)
	logNull := xlogy(nc, math.Log(best)) + xlogy(nb, math.Log1p(-best))
	return logBeta(a+nc, b+nb) - logBeta(a, b) - logNull
}

func logBeta(x, y float64) float64 {
	lx, _ := math.Lgamma(x)
	ly, _ := math.Lgamma(y)
	lxy, _ := math.Lgamma(x + y)
	return lx + ly - lxy
}
