package judge

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"
)

// fuzzConfigs are the configs a fuzz input picks from with its first byte:
// defaults, a quick one that decides on little data, an invalid one, and
// one for errors in bursts.
var fuzzConfigs = []CountConfig{
	{},
	{Alpha: 0.5, Beta: 0.5, MinRequests: 1, ToleratedRatio: 0.5, SplitTolerance: 0.4},
	{ToleratedRatio: 2, PassRatio: 1},
	{Alpha: 0.3, MinRequests: 10, Dispersion: 3},
}

// fuzzCounter decodes one counter from two bytes: mostly a count (times a
// scale picked by the second byte, so that fractions and large counters
// occur), and the top codes for what a broken query could return.
func fuzzCounter(hi, lo byte, scale float64) float64 {
	switch v := uint16(hi)<<8 | uint16(lo); v {
	case 0xFFFF:
		return math.NaN()
	case 0xFFFE:
		return -1
	case 0xFFFD:
		return 1 << 60
	case 0xFFFC:
		return maxCounter
	case 0xFFFB:
		return math.Inf(1)
	default:
		return float64(v) * scale
	}
}

// FuzzCounts feeds arbitrary counter sequences (resets, gaps, invalid
// values) to the count test and checks that every decision is consistent
// with the counts: the totals are the sum of the increments, no verdict is
// given below the minimum of requests, a failure needs canary bad events, a
// pass needs baseline bad events and a matching split, a failure is final,
// and the state and decision stay writable as JSON.
func FuzzCounts(f *testing.F) {
	f.Add([]byte{0, 0})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 232, 0, 2, 3, 232, 0, 10})
	f.Add([]byte{1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 100, 0, 5, 0, 1, 0, 1, 0, 1, 0, 0, 0, 100, 0, 9})
	f.Add([]byte{0, 2, 255, 255, 0, 0, 255, 253, 0, 0, 0, 9, 0, 1, 0, 9, 0, 2})
	f.Add([]byte{2, 0, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 2 {
			return
		}
		c := fuzzConfigs[int(data[0])%len(fuzzConfigs)]
		scale := []float64{1, 0.5, 1e6}[int(data[1])%3]
		cfgErr := c.Validate()
		var st CountState
		var last *Sample
		var total Sample
		failed := false
		// 64 ticks are more than an analysis has; longer inputs only slow
		// down minimization.
		rest := data[2:min(len(data), 2+8*64)]
		for ; len(rest) >= 8; rest = rest[8:] {
			s := sample(fuzzCounter(rest[0], rest[1], scale), fuzzCounter(rest[2], rest[3], scale),
				fuzzCounter(rest[4], rest[5], scale), fuzzCounter(rest[6], rest[7], scale))
			before := deepCopy(st)
			next, d := c.Observe(st, s)
			require.Equal(t, before, st, "Observe must not modify its input")
			again, d2 := c.Observe(st, s)
			require.True(t, reflect.DeepEqual(next, again) && reflect.DeepEqual(d, d2), "Observe is not a pure function")
			_, err := json.Marshal(struct {
				S CountState
				D Decision
			}{next, d})
			require.NoError(t, err, "state and decision must be finite")
			require.NotEmpty(t, d.Message)

			if cfgErr != nil || !s.valid() {
				require.Equal(t, Inconclusive, d.Verdict)
				require.Equal(t, st, next, "an invalid input must not change the state")
				continue
			}
			if last != nil {
				total = total.add(modelDelta(*last, s))
			}
			last = &s
			require.Equal(t, st.Ticks+1, next.Ticks)
			require.Equal(t, total, next.Total)
			checkCountDecision(t, c.WithDefaults(), d)
			if failed {
				require.Equal(t, Fail, d.Verdict, "a failure is final")
			}
			failed = d.Verdict == Fail
			st = next
		}
	})
}

// modelDelta restates the reset rule: an arm whose requests or bad events
// went down restarted, and all it shows is new.
func modelDelta(prev, cur Sample) Sample {
	arm := func(p, c Counters) Counters {
		if c.Requests >= p.Requests && c.Bad >= p.Bad {
			return Counters{Requests: c.Requests - p.Requests, Bad: c.Bad - p.Bad}
		}
		return c
	}
	return Sample{Baseline: arm(prev.Baseline, cur.Baseline), Canary: arm(prev.Canary, cur.Canary)}
}

func checkCountDecision(t *testing.T, c CountConfig, d Decision) {
	s := d.Counts
	require.NotNil(t, s)
	require.GreaterOrEqual(t, s.FailEvidence, 1.0)
	require.GreaterOrEqual(t, s.PassEvidence, 1.0)
	enough := min(s.Baseline.Requests, s.Canary.Requests) >= c.MinRequests
	switch d.Verdict {
	case Fail:
		require.True(t, enough, "a failure below the minimum of requests")
		require.Positive(t, s.Canary.Bad, "a failure without canary bad events")
		require.GreaterOrEqual(t, s.FailEvidence, s.FailThreshold*(1-1e-9))
	case Pass:
		require.True(t, enough, "a pass below the minimum of requests")
		require.Positive(t, s.Baseline.Bad, "a pass without baseline bad events")
		require.Less(t, s.SplitEvidence, s.SplitThreshold, "a pass on a mismatched split")
		require.LessOrEqual(t, math.Abs(s.CanaryShare-s.ExpectedShare), c.SplitTolerance, "a pass on a split outside the tolerance")
		require.GreaterOrEqual(t, s.PassEvidence, s.PassThreshold*(1-1e-9))
	case Continue:
		require.True(t, enough)
	case Inconclusive:
		require.Contains(t, []string{ReasonNotEnoughTraffic, ReasonSampleRatio}, d.Reason)
	}
}

func deepCopy(st CountState) CountState {
	out := st
	out.FailLogLR = append([]float64(nil), st.FailLogLR...)
	out.PassLogLR = append([]float64(nil), st.PassLogLR...)
	if st.Last != nil {
		last := *st.Last
		out.Last = &last
	}
	return out
}
