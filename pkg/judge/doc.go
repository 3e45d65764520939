// Package judge is the statistical core of the canary-versus-baseline
// judge: pure functions that turn what two arms served (the baseline, a
// fresh copy of the old version, and the canary) into a Decision with the
// numbers behind it. It does no I/O and keeps nothing in memory: the count
// test's whole state between ticks is a CountState value that the caller
// stores (in the canary's status) and hands back on the next tick.
//
// # Counts: a mixture sequential probability ratio test
//
// For errors, or requests slower than an SLO bucket, each arm reports two
// cumulative counters per tick: requests and bad events. Differences are
// taken here: a counter that went down restarted from zero, so its new value
// is the increment, as Prometheus' rate() assumes (CounterDelta), and since
// an arm's two counters come from the same processes, both restart when
// either went down (Sample.Delta). Model the
// bad events of arm a in a tick as Poisson with mean λa·na, where na is the
// requests it served and λa its bad-event rate. Given the tick's total of bad
// events x = xb + xc, the canary's share is binomial:
//
//	xc | x ~ Binomial(x, θ),   θ(r) = ρr / (ρr + 1 − ρ)
//
// where ρ = nc/(nb+nc) is the canary's share of the requests that tick and
// r = λc/λb the ratio of the rates. The traffic split drops out: the test
// conditions on the requests each arm actually served, so it stays valid when
// weights ramp or the split drifts. The hypotheses are about r only:
//
//   - Fail rejects H0: r ≤ rf (ToleratedRatio) against r ∈ rf·{1.25, 1.5, 2,
//     3, 5, 10}. The evidence is the mixture likelihood ratio
//     E = mean over those r of Π_ticks LR(r; rf), with
//     LR(r; r0) = (θ(r)/θ(r0))^xc · ((1−θ(r))/(1−θ(r0)))^xb.
//   - Pass rejects H0': r ≥ rp (PassRatio) against r ∈ rp·{1/3, 1/2, 2/3, 0.8}
//     (with rp = 1.5: 0.5, 0.75, 1, 1.2), with the same construction.
//
// This is the mixture sequential probability ratio test (Robbins 1970) on the
// conditional binomial, i.e. a test martingale (Shafer, Shen, Vereshchagin and
// Vovk 2011) in the manner of Lindon, Sanden and Shirikian, "Rapid Regression
// Detection in Software Deployments through Sequential Testing" (KDD 2022,
// arXiv 2205.14762). Under r = rf each factor LR(r; rf) has conditional mean
// one given the past and the tick's totals, so E is a nonnegative martingale
// starting at 1; under r < rf every factor with r > rf has mean below one
// (the binomial family has a monotone likelihood ratio), so E is a
// supermartingale. Ville's inequality, P(sup_t E_t ≥ 1/α) ≤ α, then bounds
// the probability of ever failing a canary that is no worse than tolerated by
// Alpha, however many ticks are looked at and whenever the analysis stops.
// That is why the judge keeps the running maximum of E: reaching 1/α once is
// a valid rejection. In the same way Beta bounds the probability of ever
// passing a canary whose rate is rp times the baseline's or worse.
//
// Bernoulli requests (each fails with probability p) make the conditional law
// at r = 1 hypergeometric rather than binomial, which is smaller in the
// convex order (Hoeffding 1963), so with ToleratedRatio 1 the fail evidence
// of an A/A release stays a supermartingale: conservative, not broken. At
// other ratios the binomial is the small-rate limit, exact for Poisson
// counts. What does break the test is overdispersion in one arm: errors in
// bursts (a pod restart, a bad minute of one version) count as many
// independent events. Bursts common to both arms cancel, since the test
// conditions on the total; for bursts of one arm, Dispersion (the variance
// of an arm's bad events over their mean) tempers each tick's likelihood
// ratio to the power 1/Dispersion, the quasi-likelihood correction, which
// restores the bound in the Monte Carlo tests (RESULTS.md).
//
// Ticks in which one arm served no request carry their increments to the next
// tick (CountState.Pending): θ is undefined without requests, and grouping
// ticks by request counts alone keeps the martingale property. No decision is
// given before both arms served MinRequests; a canary with no bad events can
// never fail (every factor is below one), and one compared with a baseline
// without bad events can never pass early, which is why Continue, not Pass,
// is what a quiet release gets until its analysis ends.
//
// # The traffic split: a sample-ratio-mismatch test
//
// A canary that drops requests before they are counted, or a router that
// does not apply the weights, makes the rates incomparable. The canary's
// share of the requests is tested against ExpectedShare ± SplitTolerance with
// a beta-binomial mixture (Lindon and Malek, "Anytime-Valid Inference for
// Multinomial Count Data", NeurIPS 2022, arXiv 2011.03567): the Bayes factor
// of a Beta prior centred on the expected share against the best share in
// the tolerated interval. It is again bounded by a test martingale, so a
// mismatch is declared with probability at most SplitAlpha when there is
// none. A mismatch makes the decision Inconclusive, never Pass, and a split
// seen outside the tolerance holds a pass back (Continue) before the test
// has the evidence to call it. A mismatch does not stop a Fail: the count
// test conditions on the requests served, so its evidence holds whatever
// the split.
//
// # Continuous metrics: Mann-Whitney U
//
// Latency quantiles, CPU and memory give one value per tick per arm.
// RankConfig.Compare runs the one-sided Mann-Whitney U test (is the canary
// stochastically worse?) on those values, with mid-ranks for ties. The
// p-value is exact (the Mann-Whitney recursion) without ties up to 30 points
// per arm, and otherwise from the normal approximation with the tie-corrected
// variance and a continuity correction. The effect sizes are the
// common-language effect size P(canary worse) + ½P(tie) and the rank-biserial
// correlation; the tolerated effect is a relative Hodges-Lehmann shift (the
// median of all canary-minus-baseline differences, as in Kayenta), so that a
// significant but harmless shift passes. This test is fixed-horizon: it is
// valid once, at the end of the analysis, not at every tick.
package judge
