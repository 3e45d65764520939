package judge

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Simulated releases: a gateway serving requestsPerTick requests per
// analysis interval (100 rps, one-minute interval), baseline and canary each
// at weight min(5·tick, 25)% (stepWeight 5, maxWeight 25, primary at the
// rest), watched for horizon ticks. Requests are split between the two arms
// at random, every request fails independently at its arm's rate, and each
// arm's process may restart in a tick, its counters starting again from
// zero.
const (
	requestsPerTick = 6000
	horizon         = 30
)

// monteCarloRuns is the number of releases per scenario: enough for a quick
// `go test`, all of them with SERIN_JUDGE_FULL=1 (make test-judge).
func monteCarloRuns() int {
	if os.Getenv("SERIN_JUDGE_FULL") == "1" {
		return 10000
	}
	return 500
}

type release struct {
	baseRate float64 // the baseline's bad-event rate
	ratio    float64 // the canary's rate over the baseline's
	share    float64 // the canary's share of the two arms' requests
	// resets is the chance that an arm's process restarts in a tick.
	resets float64
	// burst makes errors come in bursts: each arm's rate in a tick is
	// multiplied by a Gamma(burst, 1/burst) factor (mean 1, coefficient of
	// variation 1/√burst); 0 is no burst. With sharedBurst both arms have
	// the same factor (a dependency's bad minute), else each its own.
	burst       int
	sharedBurst bool
}

// outcome is when a release first failed, first passed and first showed a
// sample-ratio mismatch; 0 when it never did within the horizon.
type outcome struct {
	fail, pass, mismatch int
}

// arm is one arm's process: its cumulative counters, as a query reads them.
type arm struct{ counters Counters }

func (a *arm) serve(r *rand.Rand, requests int, rate, resets float64) Counters {
	if r.Float64() < resets {
		a.counters = Counters{}
	}
	a.counters.Requests += float64(requests)
	a.counters.Bad += float64(binomialSmall(r, requests, rate))
	return a.counters
}

func simulate(r *rand.Rand, c CountConfig, rel release) outcome {
	var out outcome
	var baseline, canary arm
	st, _ := c.Observe(CountState{}, Sample{}) // the baseline starts fresh with the analysis
	for tick := 1; tick <= horizon; tick++ {
		weight := float64(min(5*tick, 25)) / 100
		both := int(math.Round(2 * weight * requestsPerTick))
		nc := split(r, both, rel.share)
		gb, gc := burst(r, rel.burst), burst(r, rel.burst)
		if rel.sharedBurst {
			gc = gb
		}
		s := Sample{
			Baseline: baseline.serve(r, both-nc, rel.baseRate*gb, rel.resets),
			Canary:   canary.serve(r, nc, rel.baseRate*rel.ratio*gc, rel.resets),
		}
		var d Decision
		st, d = c.Observe(st, s)
		first := func(at *int) {
			if *at == 0 {
				*at = tick
			}
		}
		switch d.Verdict {
		case Fail:
			first(&out.fail)
		case Pass:
			first(&out.pass)
		}
		if d.Counts.SplitEvidence >= d.Counts.SplitThreshold {
			first(&out.mismatch)
		}
	}
	return out
}

// burst is a Gamma(k, 1/k) draw, the sum of k exponentials over k; 1
// without bursts.
func burst(r *rand.Rand, k int) float64 {
	if k == 0 {
		return 1
	}
	var sum float64
	for range k {
		sum += r.ExpFloat64()
	}
	return sum / float64(k)
}

// split is how many of n requests go to the canary: exact coin flips at one
// half (bits of random words), the normal approximation otherwise.
func split(r *rand.Rand, n int, share float64) int {
	if share == 0.5 {
		k := 0
		for ; n >= 64; n -= 64 {
			k += bits.OnesCount64(r.Uint64())
		}
		return k + bits.OnesCount64(r.Uint64()&(1<<n-1))
	}
	k := math.Round(float64(n)*share + math.Sqrt(float64(n)*share*(1-share))*r.NormFloat64())
	return int(min(max(k, 0), float64(n)))
}

// binomialSmall draws Binomial(n, p) by jumping from one success to the
// next with geometric gaps: exact, and quick for small p.
func binomialSmall(r *rand.Rand, n int, p float64) int {
	if p <= 0 {
		return 0
	}
	k, at, logQ := 0, 0, math.Log1p(-p)
	for {
		at += int(math.Log(1-r.Float64())/logQ) + 1
		if at > n {
			return k
		}
		k++
	}
}

// stats summarises when an event happened over the runs.
type stats struct {
	runs, count int
	ticks       []int
}

func (s *stats) add(tick int) {
	s.runs++
	if tick > 0 {
		s.count++
		s.ticks = append(s.ticks, tick)
	}
}

func (s *stats) rate() float64 { return float64(s.count) / float64(s.runs) }

func (s *stats) String() string {
	if s.count == 0 {
		return fmt.Sprintf("%d/%d (%.4f)", s.count, s.runs, s.rate())
	}
	slices.Sort(s.ticks)
	pct := func(q float64) int { return s.ticks[int(q*float64(len(s.ticks)-1))] }
	return fmt.Sprintf("%d/%d (%.4f), ticks median %d, p90 %d, max %d", s.count, s.runs, s.rate(), pct(0.5), pct(0.9), pct(1))
}

// runReleases simulates runs releases with a fixed seed.
func runReleases(c CountConfig, rel release, runs int, seed uint64) (fail, pass, failFirst, passFirst, mismatch stats) {
	r := rand.New(rand.NewPCG(seed, 14))
	for range runs {
		o := simulate(r, c, rel)
		fail.add(o.fail)
		pass.add(o.pass)
		mismatch.add(o.mismatch)
		// The first decisive verdict is the one a release acts on.
		failFirst.add(firstOf(o.fail, o.pass))
		passFirst.add(firstOf(o.pass, o.fail))
	}
	return fail, pass, failFirst, passFirst, mismatch
}

// firstOf is at when it came before other (or other never came), else 0.
func firstOf(at, other int) int {
	if at > 0 && (other == 0 || at < other) {
		return at
	}
	return 0
}

// A/A releases: both arms run the same version. Ville's inequality bounds
// the probability of ever failing by alpha, and the releases go on to the
// horizon even after a pass to measure exactly that. With restarts (2% per
// arm and tick, a pod restart every 50 minutes), a restart whose counters
// have already grown past their last values cannot be seen: the arm loses
// what it counted before, and the split test rightly calls the tick a
// mismatch (inconclusive, the safe side). Bursts of errors common to both
// arms cancel out: the test conditions on the total of bad events.
func TestMonteCarloAA(t *testing.T) {
	c := CountConfig{}.WithDefaults()
	runs := monteCarloRuns()
	for i, tc := range []struct {
		name string
		release
	}{
		{"A/A at 1% errors", release{baseRate: 0.01}},
		{"A/A at 0.3% errors", release{baseRate: 0.003}},
		{"A/A at 1% errors, 2% restarts", release{baseRate: 0.01, resets: 0.02}},
		{"A/A at 1% errors in bursts common to both arms (cv 50%)", release{baseRate: 0.01, burst: 4, sharedBurst: true}},
	} {
		name := tc.name
		tc.ratio, tc.share = 1, 0.5
		fail, pass, _, _, mismatch := runReleases(c, tc.release, runs, uint64(1+i))
		t.Logf("%s: false failures %s (alpha %.2f)", name, &fail, c.Alpha)
		t.Logf("%s: early passes %s", name, &pass)
		t.Logf("%s: sample-ratio mismatches %s (split alpha %.3f)", name, &mismatch, c.SplitAlpha)
		assert.LessOrEqual(t, fail.rate(), c.Alpha)
		assert.Greater(t, pass.rate(), 0.5, "equal arms should mostly pass early")
		if tc.resets == 0 {
			assert.LessOrEqual(t, mismatch.rate(), c.SplitAlpha)
		}
	}
}

// Bursts that hit one arm and not the other (each arm's rate multiplied by
// its own Gamma factor every tick, coefficient of variation 25%) break the
// binomial model and fail equal arms far more often than alpha: that is why
// Dispersion exists. An arm serves up to 15 bad events a tick here, so the
// variance over the mean is at most 1 + 15/16 ≈ 2; declaring 2 restores the
// bound.
func TestMonteCarloBursts(t *testing.T) {
	runs := monteCarloRuns()
	rel := release{baseRate: 0.01, ratio: 1, share: 0.5, burst: 16}
	for i, dispersion := range []float64{1, 2} {
		c := CountConfig{Dispersion: dispersion}.WithDefaults()
		fail, pass, _, _, _ := runReleases(c, rel, runs, uint64(40+i))
		t.Logf("A/A at 1%% errors in bursts of one arm (cv 25%%), dispersion %g: false failures %s (alpha %.2f)", dispersion, &fail, c.Alpha)
		t.Logf("A/A at 1%% errors in bursts of one arm (cv 25%%), dispersion %g: early passes %s", dispersion, &pass)
		if dispersion == 1 {
			assert.Greater(t, fail.rate(), c.Alpha, "the binomial model should not hold here")
		} else {
			assert.LessOrEqual(t, fail.rate(), c.Alpha)
		}
	}
}

// Worse canaries: how soon they fail, and how rarely they pass first. Beta
// bounds passing a canary at PassRatio (1.5) times the baseline's rate or
// worse.
func TestMonteCarloDetection(t *testing.T) {
	c := CountConfig{}.WithDefaults()
	runs := monteCarloRuns()
	for i, tc := range []struct {
		baseRate, ratio, minDetected float64
	}{
		{0.01, 2, 0.95},
		{0.01, 1.5, 0.5},
		{0.003, 2, 0.5},
	} {
		_, _, fail, pass, _ := runReleases(c, release{baseRate: tc.baseRate, ratio: tc.ratio, share: 0.5}, runs, uint64(10+i))
		t.Logf("%.1fx canary at %.1f%% baseline errors: detected %s", tc.ratio, 100*tc.baseRate, &fail)
		t.Logf("%.1fx canary at %.1f%% baseline errors: passed first %s (beta %.2f)", tc.ratio, 100*tc.baseRate, &pass, c.Beta)
		assert.GreaterOrEqual(t, fail.rate(), tc.minDetected)
		assert.LessOrEqual(t, pass.rate(), c.Beta)
	}
}

// A canary that receives 45% of the two arms' requests instead of half: a
// mismatch, and no pass before it either, unless the split seen so far
// looks within the tolerance.
func TestMonteCarloSampleRatioMismatch(t *testing.T) {
	c := CountConfig{}.WithDefaults()
	_, pass, _, _, mismatch := runReleases(c, release{baseRate: 0.01, ratio: 1, share: 0.45}, monteCarloRuns()/10, 20)
	t.Logf("A/A with the canary at 45%% of the requests: mismatches %s, passes %s", &mismatch, &pass)
	assert.Greater(t, mismatch.rate(), 0.9)
	assert.LessOrEqual(t, pass.rate(), 0.01, "a split outside the tolerance passes only when it looks within it")
}

// The Mann-Whitney test once at the end of an analysis, on A/A per-tick
// values: it rejects with probability at most alpha, on the exact path (10
// distinct values per arm) as on the normal one (40 values rounded to
// integers, so with ties). The allowance is three standard errors of the
// measured rate, since alpha is the level of the test, not a bound on the
// measurement. A shift of one standard deviation is what it should see.
func TestMonteCarloRanks(t *testing.T) {
	c := RankConfig{Alpha: 0.05}
	runs := monteCarloRuns()
	r := rand.New(rand.NewPCG(30, 14))
	draw := func(n int, shift float64, round bool) []float64 {
		vs := make([]float64, n)
		for i := range vs {
			vs[i] = 100 + shift + 10*r.NormFloat64()
			if round {
				vs[i] = math.Round(vs[i] / 5)
			}
		}
		return vs
	}
	slack := 3 * math.Sqrt(c.Alpha*(1-c.Alpha)/float64(runs))
	for _, tc := range []struct {
		name  string
		n     int
		shift float64
		round bool
	}{
		{"A/A, 10 distinct values per arm (exact)", 10, 0, false},
		{"A/A, 40 values per arm with ties (normal)", 40, 0, true},
		{"canary 1 sd slower, 10 values per arm", 10, 10, false},
	} {
		var fail stats
		for range runs {
			failed := 0 // stats counts ticks; here 1 is "failed"
			if c.Compare(draw(tc.n, 0, tc.round), draw(tc.n, tc.shift, tc.round)).Verdict == Fail {
				failed = 1
			}
			fail.add(failed)
		}
		t.Logf("Mann-Whitney, %s: failures %d/%d (%.4f) at alpha %.2f", tc.name, fail.count, fail.runs, fail.rate(), c.Alpha)
		if tc.shift == 0 {
			assert.LessOrEqual(t, fail.rate(), c.Alpha+slack)
		} else {
			assert.Greater(t, fail.rate(), 0.5)
		}
	}
}
