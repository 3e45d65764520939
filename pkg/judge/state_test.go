package judge

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// observeRelease runs the count test over ticks of a simulated release and
// returns the state after each tick.
func observeRelease(c CountConfig, seed uint64, ticks int) []CountState {
	rng := rand.New(rand.NewPCG(seed, 1))
	var st CountState
	var cum Sample
	var out []CountState
	for range ticks {
		n := float64(rng.IntN(3000))
		cum.Baseline.Requests += n
		cum.Baseline.Bad += float64(rng.IntN(int(n)/50 + 1))
		cum.Canary.Requests += n + float64(rng.IntN(100))
		cum.Canary.Bad += float64(rng.IntN(int(n)/30 + 1))
		if rng.IntN(10) == 0 {
			cum.Canary = Counters{} // a restart
		}
		st, _ = c.Observe(st, cum)
		out = append(out, st)
	}
	return out
}

func TestCountStateRoundTrip(t *testing.T) {
	configs := []CountConfig{{}, {Alpha: 0.05, ToleratedRatio: 1.2, MinRequests: 10, Dispersion: 2}}
	for i, c := range configs {
		for seed := range uint64(20) {
			for tick, st := range observeRelease(c, seed, 40) {
				s, err := EncodeCountState(c, st)
				require.NoError(t, err)
				got, err := DecodeCountState(c, s)
				require.NoError(t, err)
				require.Equal(t, st, got, "config %d seed %d tick %d: %s", i, seed, tick, s)
				// What matters is that the test goes on as it would have.
				next := Sample{Baseline: Counters{Requests: 1e9, Bad: 1e6}, Canary: Counters{Requests: 1e9, Bad: 3e6}}
				want, wantD := c.Observe(st, next)
				resumed, resumedD := c.Observe(got, next)
				require.Equal(t, want, resumed)
				require.Equal(t, wantD, resumedD)
			}
		}
	}
}

func TestCountStateSize(t *testing.T) {
	states := observeRelease(CountConfig{}, 7, 200)
	longest := 0
	for _, st := range states {
		s, err := EncodeCountState(CountConfig{}, st)
		require.NoError(t, err)
		longest = max(longest, len(s))
	}
	assert.Less(t, longest, 800, "a count state is a few hundred bytes whatever the run's length")
	t.Logf("longest count state: %d bytes", longest)
}

func TestCountStateEmpty(t *testing.T) {
	s, err := EncodeCountState(CountConfig{}, CountState{})
	require.NoError(t, err)
	assert.Empty(t, s)
	st, err := DecodeCountState(CountConfig{}, "")
	require.NoError(t, err)
	assert.Equal(t, CountState{}, st)
}

func TestCountStateRefused(t *testing.T) {
	c := CountConfig{}
	states := observeRelease(c, 3, 5)
	good, err := EncodeCountState(c, states[4])
	require.NoError(t, err)
	header, body, _ := strings.Cut(good, ":")

	tests := []struct {
		name  string
		state string
		cfg   CountConfig
		want  error
	}{
		{"another version", strings.Replace(good, "count/v1", "count/v2", 1), c, ErrStateVersion},
		{"tolerance changed", good, CountConfig{ToleratedRatio: 1.5}, ErrStateConfig},
		{"alpha changed", good, CountConfig{Alpha: 0.05}, ErrStateConfig},
		{"a series", "series/v1:1;2", c, ErrStateCorrupt},
		{"garbage", "{\"ticks\":3}", c, ErrStateCorrupt},
		{"a number short", header + ":" + body[:strings.LastIndex(body, ",")], c, ErrStateCorrupt},
		{"NaN", header + ":" + strings.Replace(body, ",", ",NaN,", 1)[:len(body)+4], c, ErrStateCorrupt},
		{"negative counter", header + ":5,1,-1" + body[strings.Index(body[4:], ",")+4:], c, ErrStateCorrupt},
		{"fractional ticks", header + ":4.5" + body[1:], c, ErrStateCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeCountState(tt.cfg, tt.state)
			require.ErrorIs(t, err, tt.want)
		})
	}
	_, err = DecodeCountState(c, good)
	require.NoError(t, err, "the unchanged state decodes")
	_, err = DecodeCountState(CountConfig{Alpha: DefaultAlpha, ToleratedRatio: DefaultToleratedRatio}, good)
	require.NoError(t, err, "a default written out is the same config")
}

func TestEncodeCountStateRefusesWhatObserveCannotMake(t *testing.T) {
	_, err := EncodeCountState(CountConfig{}, CountState{Ticks: 1, FailLogLR: []float64{1}, PassLogLR: make([]float64, 4)})
	assert.Error(t, err)
	_, err = EncodeCountState(CountConfig{}, CountState{Ticks: 1, MaxLogFail: math.Inf(1)})
	assert.Error(t, err)
}

func TestSeries(t *testing.T) {
	var s Series
	for i := range 100 {
		s = s.Append(float64(i), float64(-i)/3)
	}
	s = s.Append(math.NaN(), math.Inf(1))
	require.Len(t, s.Baseline, MaxSeriesPoints)
	require.Len(t, s.Canary, MaxSeriesPoints)
	assert.Equal(t, float64(36), s.Baseline[0], "the oldest values go")
	assert.Equal(t, float64(99), s.Baseline[MaxSeriesPoints-1])

	enc := EncodeSeries(s)
	assert.Less(t, len(enc), 4096)
	got, err := DecodeSeries(enc)
	require.NoError(t, err)
	assert.Equal(t, s, got, "values read back exactly")

	before := Series{Baseline: []float64{1, 2}, Canary: []float64{3}}
	after := before.Append(4, 5)
	assert.Equal(t, Series{Baseline: []float64{1, 2}, Canary: []float64{3}}, before, "Append must not modify its receiver")
	assert.Equal(t, Series{Baseline: []float64{1, 2, 4}, Canary: []float64{3, 5}}, after)

	empty, err := DecodeSeries("")
	require.NoError(t, err)
	assert.Equal(t, Series{}, empty)
	assert.Empty(t, EncodeSeries(Series{}))
	oneArm, err := DecodeSeries(EncodeSeries(Series{Canary: []float64{0.5}}))
	require.NoError(t, err)
	assert.Equal(t, Series{Canary: []float64{0.5}}, oneArm)

	for state, want := range map[string]error{
		"series/v2:1;2":    ErrStateVersion,
		"series/v1:1,2":    ErrStateCorrupt,
		"series/v1:1;x":    ErrStateCorrupt,
		"series/v1:1;+Inf": ErrStateCorrupt,
		"count/v1/x:1":     ErrStateCorrupt,
		"series/v1:" + strings.Repeat("1,", MaxSeriesPoints) + "1;": ErrStateCorrupt,
	} {
		_, err := DecodeSeries(state)
		assert.ErrorIs(t, err, want, state)
	}
}

// FuzzDecodeState feeds arbitrary text to both decoders: no panic, and
// whatever decodes encodes back to a state that decodes to the same value,
// so a stored state cannot drift by being read and written again.
func FuzzDecodeState(f *testing.F) {
	for _, st := range observeRelease(CountConfig{}, 1, 4) {
		s, _ := EncodeCountState(CountConfig{}, st)
		f.Add(s)
	}
	f.Add(EncodeSeries(Series{Baseline: []float64{1, 2.5}, Canary: []float64{3e-9}}))
	f.Add("series/v1:;")
	f.Add("count/v1/x:1,0")
	f.Fuzz(func(t *testing.T, s string) {
		c := CountConfig{}
		if st, err := DecodeCountState(c, s); err == nil {
			again, err := EncodeCountState(c, st)
			require.NoError(t, err, "a decoded state must encode")
			back, err := DecodeCountState(c, again)
			require.NoError(t, err)
			require.Equal(t, st, back)
			_, d := c.Observe(st, Sample{Baseline: Counters{Requests: 10, Bad: 1}, Canary: Counters{Requests: 10, Bad: 1}})
			require.NotEmpty(t, d.Message, fmt.Sprintf("%+v", st))
		}
		if series, err := DecodeSeries(s); err == nil {
			back, err := DecodeSeries(EncodeSeries(series))
			require.NoError(t, err)
			require.Equal(t, len(series.Baseline), len(back.Baseline))
			require.Equal(t, len(series.Canary), len(back.Canary))
			RankConfig{}.Compare(series.Baseline, series.Canary)
		}
	})
}
