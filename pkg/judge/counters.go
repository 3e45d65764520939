package judge

import "math"

// Counters are one arm's cumulative counters as an instant query returns
// them: requests served and bad events (errors, slow requests) among them.
type Counters struct {
	Requests float64 `json:"requests"`
	Bad      float64 `json:"bad"`
}

// Sample is one tick's counters of both arms.
type Sample struct {
	Baseline Counters `json:"baseline"`
	Canary   Counters `json:"canary"`
}

// maxCounter is the largest counter taken as exact: float64 counters stop
// counting one by one above 2^53, and the test's arithmetic stays finite.
const maxCounter = 1 << 53

// CounterDelta is how much a cumulative counter grew from prev to cur. A
// counter that went down was reset (its process restarted) and counts again
// from zero, so all of cur is new, as Prometheus' rate() assumes. Two resets
// escape this rule: a summed counter whose one pod restarted is overcounted
// by what the other pods had counted, and a counter that restarted and grew
// past prev before the tick is undercounted. Either distorts one arm's
// requests, which the traffic-split test sees (see the Monte Carlo tests).
func CounterDelta(prev, cur float64) float64 {
	if cur < prev {
		return cur
	}
	return cur - prev
}

// delta is how much an arm served since prev. Its two counters come from the
// same processes and restart together: when either went down, both count
// from zero. Taking the requests' growth since prev with the bad events'
// new value would credit the arm with a burst of bad events and make a
// false failure.
func (c Counters) delta(prev Counters) Counters {
	if c.Requests < prev.Requests || c.Bad < prev.Bad {
		return c
	}
	return Counters{Requests: c.Requests - prev.Requests, Bad: c.Bad - prev.Bad}
}

func (c Counters) add(o Counters) Counters {
	return Counters{Requests: c.Requests + o.Requests, Bad: c.Bad + o.Bad}
}

func (c Counters) arm() Arm {
	a := Arm{Requests: c.Requests, Bad: c.Bad}
	if c.Requests > 0 {
		a.Rate = c.Bad / c.Requests
	}
	return a
}

// Delta is what each arm served between prev and s (see Counters.delta).
func (s Sample) Delta(prev Sample) Sample {
	return Sample{Baseline: s.Baseline.delta(prev.Baseline), Canary: s.Canary.delta(prev.Canary)}
}

func (s Sample) add(o Sample) Sample {
	return Sample{Baseline: s.Baseline.add(o.Baseline), Canary: s.Canary.add(o.Canary)}
}

// valid reports whether every counter is a number a counter can hold.
func (s Sample) valid() bool {
	for _, v := range []float64{s.Baseline.Requests, s.Baseline.Bad, s.Canary.Requests, s.Canary.Bad} {
		if math.IsNaN(v) || v < 0 || v > maxCounter {
			return false
		}
	}
	return true
}
