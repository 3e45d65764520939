package judge

import "math"

// Verdict is what the judge concludes on one tick.
type Verdict string

const (
	// Continue means the data is usable but not yet conclusive either way.
	Continue Verdict = "Continue"
	// Pass means the evidence says the canary is no worse than the baseline.
	Pass Verdict = "Pass"
	// Fail means the evidence says the canary is worse than tolerated.
	Fail Verdict = "Fail"
	// Inconclusive means the data cannot be judged: too little of it, a
	// traffic split that does not match the weights, or invalid numbers. It
	// is never a pass.
	Inconclusive Verdict = "Inconclusive"
)

// Reasons, one CamelCase word each so that they can become event and
// condition reasons.
const (
	ReasonWorse              = "CanaryWorse"
	ReasonNoWorse            = "CanaryNoWorse"
	ReasonNotEnoughEvidence  = "NotEnoughEvidence"
	ReasonNotEnoughTraffic   = "NotEnoughTraffic"
	ReasonSampleRatio        = "SampleRatioMismatch"
	ReasonInvalidSample      = "InvalidSample"
	ReasonInvalidConfig      = "InvalidConfig"
	ReasonNotEnoughPoints    = "NotEnoughPoints"
	ReasonNoSignificantShift = "NoSignificantShift"
	ReasonShiftTolerated     = "ShiftTolerated"
)

// Decision is one tick's verdict with what a user needs to see why: the
// reason in one word and in a sentence, and the numbers of the test that
// decided: Counts for the count test, Ranks for Mann-Whitney, neither when
// the config or the sample was invalid. Every float is finite, so that a
// Decision can be written to a status as it is.
type Decision struct {
	Verdict Verdict       `json:"verdict"`
	Reason  string        `json:"reason"`
	Message string        `json:"message"`
	Counts  *CountSummary `json:"counts,omitempty"`
	Ranks   *RankSummary  `json:"ranks,omitempty"`
}

// Arm is what one arm served since the analysis started.
type Arm struct {
	Requests float64 `json:"requests"`
	Bad      float64 `json:"bad"`
	// Rate is Bad/Requests, 0 without requests.
	Rate float64 `json:"rate"`
}

// CountSummary is the state of the count test behind a Decision. Evidence
// values are likelihood ratios (e-values): the test decides when one reaches
// its threshold, 1/Alpha for failing, 1/Beta for passing, 1/SplitAlpha for a
// sample-ratio mismatch.
type CountSummary struct {
	Ticks    int `json:"ticks"`
	Baseline Arm `json:"baseline"`
	Canary   Arm `json:"canary"`

	ToleratedRatio float64 `json:"toleratedRatio"`
	PassRatio      float64 `json:"passRatio"`
	FailEvidence   float64 `json:"failEvidence"`
	FailThreshold  float64 `json:"failThreshold"`
	PassEvidence   float64 `json:"passEvidence"`
	PassThreshold  float64 `json:"passThreshold"`

	// CanaryShare is the canary's share of the requests of both arms.
	CanaryShare    float64 `json:"canaryShare"`
	ExpectedShare  float64 `json:"expectedShare"`
	SplitEvidence  float64 `json:"splitEvidence"`
	SplitThreshold float64 `json:"splitThreshold"`
}

// RankSummary is the state of the Mann-Whitney test behind a Decision.
// Values are oriented so that larger is worse (negated when lower is worse).
type RankSummary struct {
	BaselinePoints int `json:"baselinePoints"`
	CanaryPoints   int `json:"canaryPoints"`
	// U counts the (baseline, canary) pairs where the canary is worse, ties
	// counting one half.
	U float64 `json:"u"`
	// Z is the normal score of U; 0 when the p-value is exact.
	Z      float64 `json:"z"`
	PValue float64 `json:"pValue"`
	Exact  bool    `json:"exact"`
	Alpha  float64 `json:"alpha"`
	// Effect is the common-language effect size U/(n·m): the probability
	// that a canary tick is worse than a baseline tick.
	Effect       float64 `json:"effect"`
	RankBiserial float64 `json:"rankBiserial"`

	BaselineMedian float64 `json:"baselineMedian"`
	CanaryMedian   float64 `json:"canaryMedian"`
	// Shift is the Hodges-Lehmann estimate of how much worse the canary is;
	// ShiftTolerance is the largest shift that still passes.
	Shift          float64 `json:"shift"`
	ShiftTolerance float64 `json:"shiftTolerance"`
}

// maxLogEvidence caps reported e-values so that they stay finite in JSON;
// the decision compares logarithms and is not affected.
const maxLogEvidence = 690

func evidence(logE float64) float64 {
	return math.Exp(min(logE, maxLogEvidence))
}
