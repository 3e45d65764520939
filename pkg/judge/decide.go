package judge

import (
	"fmt"
	"math"
)

// decide turns the state into a verdict. The order is the policy: no
// verdict before both arms served MinRequests; a failure stands whatever
// the split (its evidence conditions on the requests served); a mismatched
// split is never a pass, nor is a split outside the tolerance that the test
// has not called a mismatch yet.
func (c CountConfig) decide(st CountState) Decision {
	sum := c.summary(st)
	d := Decision{Verdict: Continue, Reason: ReasonNotEnoughEvidence, Counts: &sum}
	b, k := sum.Baseline, sum.Canary
	switch {
	case min(b.Requests, k.Requests) < c.MinRequests:
		d.Verdict, d.Reason = Inconclusive, ReasonNotEnoughTraffic
		d.Message = fmt.Sprintf("baseline served %.0f requests and canary %.0f, below the minimum of %.0f per arm",
			b.Requests, k.Requests, c.MinRequests)
	case st.MaxLogFail >= -math.Log(c.Alpha):
		d.Verdict, d.Reason = Fail, ReasonWorse
		d.Message = fmt.Sprintf("canary bad-event rate %s is more than %g× the baseline's %s: evidence %.3g reached %.3g (1/alpha)",
			rate(k), c.ToleratedRatio, rate(b), sum.FailEvidence, sum.FailThreshold)
	case st.MaxLogSplit >= -math.Log(c.SplitAlpha):
		d.Verdict, d.Reason = Inconclusive, ReasonSampleRatio
		d.Message = fmt.Sprintf("canary served %.1f%% of the requests of both arms, expected %.1f%% ± %.1f%%: evidence %.3g reached %.3g (1/split alpha)",
			100*sum.CanaryShare, 100*c.ExpectedShare, 100*c.SplitTolerance, sum.SplitEvidence, sum.SplitThreshold)
	case st.MaxLogPass >= -math.Log(c.Beta) && math.Abs(sum.CanaryShare-c.ExpectedShare) > c.SplitTolerance:
		// The split test has not called a mismatch yet, but the split seen
		// is one: passing now would pass the releases that the test is
		// about to call (a canary at 45% passed 9% of the time without this).
		d.Message = fmt.Sprintf("canary bad-event rate %s is less than %g× the baseline's %s, but the canary served %.1f%% of the requests of both arms, expected %.1f%% ± %.1f%%",
			rate(k), c.PassRatio, rate(b), 100*sum.CanaryShare, 100*c.ExpectedShare, 100*c.SplitTolerance)
	case st.MaxLogPass >= -math.Log(c.Beta):
		d.Verdict, d.Reason = Pass, ReasonNoWorse
		d.Message = fmt.Sprintf("canary bad-event rate %s is less than %g× the baseline's %s: evidence %.3g reached %.3g (1/beta)",
			rate(k), c.PassRatio, rate(b), sum.PassEvidence, sum.PassThreshold)
	default:
		d.Message = fmt.Sprintf("canary bad-event rate %s, baseline %s: failure evidence %.3g of %.3g, pass evidence %.3g of %.3g",
			rate(k), rate(b), sum.FailEvidence, sum.FailThreshold, sum.PassEvidence, sum.PassThreshold)
	}
	return d
}

func (c CountConfig) summary(st CountState) CountSummary {
	s := CountSummary{
		Ticks:          st.Ticks,
		Baseline:       st.Total.Baseline.arm(),
		Canary:         st.Total.Canary.arm(),
		ToleratedRatio: c.ToleratedRatio,
		PassRatio:      c.PassRatio,
		FailEvidence:   evidence(st.MaxLogFail),
		FailThreshold:  1 / c.Alpha,
		PassEvidence:   evidence(st.MaxLogPass),
		PassThreshold:  1 / c.Beta,
		ExpectedShare:  c.ExpectedShare,
		SplitEvidence:  evidence(st.MaxLogSplit),
		SplitThreshold: 1 / c.SplitAlpha,
	}
	if n := s.Baseline.Requests + s.Canary.Requests; n > 0 {
		s.CanaryShare = s.Canary.Requests / n
	}
	return s
}

// rate prints an arm's rate with the counts it comes from.
func rate(a Arm) string {
	return fmt.Sprintf("%.3g%% (%.0f/%.0f)", 100*a.Rate, a.Bad, a.Requests)
}
