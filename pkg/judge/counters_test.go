package judge

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCounterDelta(t *testing.T) {
	for _, tc := range []struct {
		name            string
		prev, cur, want float64
	}{
		{"growth", 10, 15, 5},
		{"no traffic", 10, 10, 0},
		{"reset: the counter restarted and counted 3", 10, 3, 3},
		{"reset to zero", 10, 0, 0},
		{"from zero", 0, 7, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, CounterDelta(tc.prev, tc.cur))
		})
	}
}

func TestSampleDelta(t *testing.T) {
	prev := sample(5000, 50, 5000, 50)
	// The canary's pods restarted: both of its counters went down.
	cur := sample(6000, 52, 1000, 10)
	assert.Equal(t, sample(1000, 2, 1000, 10), cur.Delta(prev))
}

// sample builds a Sample from the baseline's requests and bad events, then
// the canary's.
func sample(bReq, bBad, cReq, cBad float64) Sample {
	return Sample{Baseline: Counters{Requests: bReq, Bad: bBad}, Canary: Counters{Requests: cReq, Bad: cBad}}
}
