package judge

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
)

// The judge's state between ticks is stored in the canary's status
// (status.judge[].state), so that a restarted operator resumes each test
// where it was. It is a short text, not JSON: a version, a fingerprint of
// the config and the numbers, each float written so that it reads back
// exactly (strconv 'g', -1).
//
//	count/v1/<config fingerprint>:<ticks>,<has last>,<last ×4>,<total ×4>,<pending ×4>,<fail log LR ×6>,<pass log LR ×4>,<max fail>,<max pass>,<max split>
//	series/v1:<baseline values, comma-separated>;<canary values>
//
// An empty string is a new test. A state written by another version of the
// format, or with another config, is refused with ErrStateVersion or
// ErrStateConfig: the caller starts the metric's test over (a state that
// decoded into numbers it did not mean would break the test's bound), and
// says so.

// Format versions of the stored state. Bump one whenever what it encodes
// changes meaning (a field, a grid of alternatives, a cap).
const (
	countStateVersion  = "count/v1"
	seriesStateVersion = "series/v1"
)

// MaxSeriesPoints caps the values kept per arm of a continuous metric. The
// state lives in the Canary's status, one per compared metric, and the
// whole object must stay far below etcd's 1.5 MiB limit and cheap to write
// at every tick: 64 values per arm are at most about 3 KiB per metric. The
// Mann-Whitney test needs far fewer (5 per arm to decide, 30 for the exact
// p-value), and an analysis rarely has more ticks; past the cap the oldest
// values go, so the test sees the latest ticks, at the highest weights.
const MaxSeriesPoints = 64

var (
	// ErrStateVersion says the stored state was written by another version
	// of the format: the test starts over.
	ErrStateVersion = errors.New("judge state of an unknown format version")
	// ErrStateConfig says the stored state was accumulated under another
	// config (the analysis' judge settings changed mid-run): its evidence
	// holds against other alternatives, so the test starts over.
	ErrStateConfig = errors.New("judge state of another config")
	// ErrStateCorrupt says the stored state does not parse.
	ErrStateCorrupt = errors.New("judge state is corrupt")
)

// countStateFields is how many numbers follow the header of a count state.
const countStateFields = 2 + 3*4 + 6 + 4 + 3

// EncodeCountState writes st, accumulated under c, for the status. It fails
// only for a state that Observe cannot produce (a grid of another length, a
// number that is not finite).
func EncodeCountState(c CountConfig, st CountState) (string, error) {
	if st.Ticks == 0 && st.Last == nil && st.FailLogLR == nil && st.PassLogLR == nil &&
		st.Total == (Sample{}) && st.Pending == (Sample{}) && st.MaxLogFail == 0 && st.MaxLogPass == 0 && st.MaxLogSplit == 0 {
		return "", nil
	}
	fail, pass := st.FailLogLR, st.PassLogLR
	if fail == nil && pass == nil {
		fail, pass = make([]float64, len(failGrid)), make([]float64, len(passGrid))
	}
	if len(fail) != len(failGrid) || len(pass) != len(passGrid) {
		return "", fmt.Errorf("count state has %d and %d alternatives, want %d and %d", len(fail), len(pass), len(failGrid), len(passGrid))
	}
	hasLast, last := 0.0, Sample{}
	if st.Last != nil {
		hasLast, last = 1, *st.Last
	}
	nums := []float64{float64(st.Ticks), hasLast}
	for _, s := range []Sample{last, st.Total, st.Pending} {
		nums = append(nums, s.Baseline.Requests, s.Baseline.Bad, s.Canary.Requests, s.Canary.Bad)
	}
	nums = append(nums, fail...)
	nums = append(nums, pass...)
	nums = append(nums, st.MaxLogFail, st.MaxLogPass, st.MaxLogSplit)
	body, err := formatFloats(nums)
	if err != nil {
		return "", fmt.Errorf("count state: %w", err)
	}
	return countStateVersion + "/" + c.fingerprint() + ":" + body, nil
}

// DecodeCountState reads a state written by EncodeCountState under the same
// config; "" is the zero state, a new test.
func DecodeCountState(c CountConfig, s string) (CountState, error) {
	if s == "" {
		return CountState{}, nil
	}
	header, body, ok := strings.Cut(s, ":")
	version, fingerprint, _ := cutLast(header, "/")
	switch {
	case !ok || !strings.HasPrefix(version, "count/"):
		return CountState{}, fmt.Errorf("%w: %.40q", ErrStateCorrupt, s)
	case version != countStateVersion:
		return CountState{}, fmt.Errorf("%w: %s, this operator reads %s", ErrStateVersion, version, countStateVersion)
	case fingerprint != c.fingerprint():
		return CountState{}, fmt.Errorf("%w: written under config %s, now %s", ErrStateConfig, fingerprint, c.fingerprint())
	}
	nums, err := parseFloats(body)
	if err != nil || len(nums) != countStateFields {
		return CountState{}, fmt.Errorf("%w: %d numbers, want %d (%v)", ErrStateCorrupt, len(nums), countStateFields, err)
	}
	ticks := nums[0]
	if ticks < 0 || ticks > math.MaxInt32 || ticks != math.Trunc(ticks) || (nums[1] != 0 && nums[1] != 1) {
		return CountState{}, fmt.Errorf("%w: ticks %v, has last %v", ErrStateCorrupt, ticks, nums[1])
	}
	sample := func(i int) Sample {
		return Sample{Baseline: Counters{Requests: nums[i], Bad: nums[i+1]}, Canary: Counters{Requests: nums[i+2], Bad: nums[i+3]}}
	}
	st := CountState{Ticks: int(ticks), Total: sample(6), Pending: sample(10)}
	if nums[1] == 1 {
		last := sample(2)
		st.Last = &last
	}
	for _, s := range []Sample{sample(2), st.Total, st.Pending} {
		if !s.valid() {
			return CountState{}, fmt.Errorf("%w: counters %+v", ErrStateCorrupt, s)
		}
	}
	rest := nums[14:]
	st.FailLogLR = rest[:len(failGrid):len(failGrid)]
	st.PassLogLR = rest[len(failGrid) : len(failGrid)+len(passGrid) : len(failGrid)+len(passGrid)]
	maxima := rest[len(failGrid)+len(passGrid):]
	st.MaxLogFail, st.MaxLogPass, st.MaxLogSplit = maxima[0], maxima[1], maxima[2]
	if min(st.MaxLogFail, st.MaxLogPass, st.MaxLogSplit) < 0 {
		// Running maxima of evidence that starts at 1 (log 0).
		return CountState{}, fmt.Errorf("%w: negative running maximum", ErrStateCorrupt)
	}
	return st, nil
}

// fingerprint identifies the config the evidence depends on: every field,
// defaulted, so that a changed alpha is seen as well as a changed ratio.
func (c CountConfig) fingerprint() string {
	c = c.WithDefaults()
	h := fnv.New32a()
	for _, v := range []float64{c.Alpha, c.Beta, c.ToleratedRatio, c.PassRatio, c.MinRequests,
		c.ExpectedShare, c.SplitTolerance, c.SplitAlpha, c.Dispersion} {
		h.Write(strconv.AppendFloat(nil, v, 'g', -1, 64))
		h.Write([]byte{','})
	}
	return strconv.FormatUint(uint64(h.Sum32()), 36)
}

// Series is the per-tick values of a continuous metric in the two arms, for
// RankConfig.Compare at the end of the analysis.
type Series struct {
	Baseline []float64
	Canary   []float64
}

// Append returns s with one tick's values, each arm capped at
// MaxSeriesPoints (the oldest go). A value that is not finite (a tick
// without data) is left out, as Compare would leave it out. s is not
// modified.
func (s Series) Append(baseline, canary float64) Series {
	return Series{Baseline: appendCapped(s.Baseline, baseline), Canary: appendCapped(s.Canary, canary)}
}

func appendCapped(vs []float64, v float64) []float64 {
	out := make([]float64, 0, min(len(vs)+1, MaxSeriesPoints))
	if !math.IsNaN(v) && !math.IsInf(v, 0) {
		vs = append(vs[:len(vs):len(vs)], v)
	}
	return append(out, vs[max(0, len(vs)-MaxSeriesPoints):]...)
}

// EncodeSeries writes s for the status; "" when it is empty. Values that
// are not finite are left out, as Append leaves them out.
func EncodeSeries(s Series) string {
	if len(s.Baseline) == 0 && len(s.Canary) == 0 {
		return ""
	}
	b, _ := formatFloats(finiteOnly(s.Baseline))
	k, _ := formatFloats(finiteOnly(s.Canary))
	return seriesStateVersion + ":" + b + ";" + k
}

// DecodeSeries reads what EncodeSeries wrote; "" is an empty series.
func DecodeSeries(s string) (Series, error) {
	if s == "" {
		return Series{}, nil
	}
	version, body, ok := strings.Cut(s, ":")
	switch {
	case !ok || !strings.HasPrefix(version, "series/"):
		return Series{}, fmt.Errorf("%w: %.40q", ErrStateCorrupt, s)
	case version != seriesStateVersion:
		return Series{}, fmt.Errorf("%w: %s, this operator reads %s", ErrStateVersion, version, seriesStateVersion)
	}
	b, k, ok := strings.Cut(body, ";")
	if !ok {
		return Series{}, fmt.Errorf("%w: no canary values", ErrStateCorrupt)
	}
	var out Series
	var err error
	if out.Baseline, err = parseFloats(b); err != nil {
		return Series{}, fmt.Errorf("%w: baseline: %v", ErrStateCorrupt, err)
	}
	if out.Canary, err = parseFloats(k); err != nil {
		return Series{}, fmt.Errorf("%w: canary: %v", ErrStateCorrupt, err)
	}
	if len(out.Baseline) > MaxSeriesPoints || len(out.Canary) > MaxSeriesPoints {
		return Series{}, fmt.Errorf("%w: %d and %d values, more than %d", ErrStateCorrupt, len(out.Baseline), len(out.Canary), MaxSeriesPoints)
	}
	return out, nil
}

func finiteOnly(vs []float64) []float64 {
	out := make([]float64, 0, len(vs))
	for _, v := range vs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out = append(out, v)
		}
	}
	return out
}

// formatFloats writes finite numbers comma-separated, each exactly.
func formatFloats(vs []float64) (string, error) {
	var b strings.Builder
	for i, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "", fmt.Errorf("number %d is %v", i, v)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	}
	return b.String(), nil
}

// parseFloats reads what formatFloats wrote: finite numbers only.
func parseFloats(s string) ([]float64, error) {
	if s == "" {
		return nil, nil
	}
	fields := strings.Split(s, ",")
	out := make([]float64, len(fields))
	for i, f := range fields {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("number %d, %.30q, is not a finite number", i, f)
		}
		out[i] = v
	}
	return out, nil
}

// cutLast is strings.Cut at the last sep.
func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}
