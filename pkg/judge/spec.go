package judge

import (
	"errors"
	"fmt"
	"strconv"

	flaggerv1 "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"
)

// analysisPath is the field path of the analysis in errors. The deprecated
// spec.canaryAnalysis has the same fields; users write spec.analysis.
const analysisPath = "spec.analysis"

// MaxBaselineWeight is the largest canary weight with a baseline: the
// baseline takes as much as the canary from the primary (primary 100-2w,
// baseline w, canary w).
const MaxBaselineWeight = flaggerv1.MaxBaselineWeight

// CountConfigFor returns the count test of a compared metric of the
// analysis: judge.alpha, judge.beta and judge.minRequests, the metric's
// compare.tolerance as the tolerated ratio, baseline and canary expected at
// the same weight. Unset fields keep CountConfig's defaults. An error names
// the field, e.g. "spec.analysis.judge.alpha: ...".
func CountConfigFor(judge *flaggerv1.CanaryJudge, metric flaggerv1.CanaryMetric, index int) (CountConfig, error) {
	var c CountConfig
	var errs []error
	if judge != nil {
		c.Alpha = parseProbability(&errs, analysisPath+".judge.alpha", judge.Alpha)
		c.Beta = parseProbability(&errs, analysisPath+".judge.beta", judge.Beta)
		if judge.MinRequests < 0 {
			errs = append(errs, fmt.Errorf("%s.judge.minRequests: %d is negative", analysisPath, judge.MinRequests))
		}
		c.MinRequests = float64(judge.MinRequests)
	}
	if cmp := metric.Compare; cmp != nil && cmp.Tolerance != "" {
		field := fmt.Sprintf("%s.metrics[%d].compare.tolerance", analysisPath, index)
		c.ToleratedRatio = parseDecimal(&errs, field, cmp.Tolerance)
		if c.ToleratedRatio == 0 && len(errs) == 0 {
			errs = append(errs, fmt.Errorf("%s: 0 is not a ratio of rates: the canary would fail for any bad event; 1 tolerates no increase", field))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return CountConfig{}, err
	}
	if err := c.Validate(); err != nil {
		return CountConfig{}, fmt.Errorf("%s.metrics[%d].compare: %w", analysisPath, index, err)
	}
	return c, nil
}

// RankConfigFor returns the Mann-Whitney comparison of a continuous metric
// of the analysis: judge.alpha as its significance level, compare.tolerance
// as the tolerated shift (a fraction of the baseline's median) and
// compare.lowerIsWorse. Errors name the field as CountConfigFor's do.
func RankConfigFor(judge *flaggerv1.CanaryJudge, metric flaggerv1.CanaryMetric, index int) (RankConfig, error) {
	var c RankConfig
	var errs []error
	if judge != nil {
		c.Alpha = parseProbability(&errs, analysisPath+".judge.alpha", judge.Alpha)
	}
	if cmp := metric.Compare; cmp != nil {
		c.LowerIsWorse = cmp.LowerIsWorse
		if cmp.Tolerance != "" {
			c.ToleratedShift = parseDecimal(&errs, fmt.Sprintf("%s.metrics[%d].compare.tolerance", analysisPath, index), cmp.Tolerance)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return RankConfig{}, err
	}
	if err := c.Validate(); err != nil {
		return RankConfig{}, fmt.Errorf("%s.metrics[%d].compare: %w", analysisPath, index, err)
	}
	return c, nil
}

// parseDecimal parses a non-negative decimal string, recording an error
// that names field.
func parseDecimal(errs *[]error, field, s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v >= 0 && v < 1e6) {
		*errs = append(*errs, fmt.Errorf("%s: %q is not a decimal number in [0, 1e6)", field, s))
		return 0
	}
	return v
}

// parseProbability parses a probability in (0, 1); "" is 0, the default.
func parseProbability(errs *[]error, field, s string) float64 {
	if s == "" {
		return 0
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !open01(v) {
		*errs = append(*errs, fmt.Errorf("%s: %q is not a number strictly between 0 and 1", field, s))
		return 0
	}
	return v
}

// ValidateJudge returns everything wrong with the judge settings of an
// analysis, each error naming its field, for admission (or for the
// controller to report as a permanent error of the spec). nil analysis is
// valid. The CRD's schema checks some of this already (the patterns of
// alpha, beta and tolerance, totalTemplateRef for counts); checking again
// here covers manifests applied before the CRD was upgraded, and says the
// rest:
//
//   - a compared metric needs judge.baseline (there is nothing to compare
//     with otherwise), a template or query to ask per arm ({{ workload }}),
//     a name unique among the compared metrics (status.judge is keyed by
//     it), and for counts a totalTemplateRef;
//   - alpha, beta and tolerance parse and are in range;
//   - a baseline needs a weighted canary (stepWeight or stepWeights, no
//     A/B match, no mirroring: the baseline takes a weight), with a
//     maxWeight, or last step weight, of at most MaxBaselineWeight.
func ValidateJudge(a *flaggerv1.CanaryAnalysis) error {
	if a == nil {
		return nil
	}
	var errs []error
	baseline := a.Judge != nil && a.Judge.Baseline
	seen := map[string]bool{}
	for i, m := range a.Metrics {
		if m.Compare == nil {
			continue
		}
		field := fmt.Sprintf("%s.metrics[%d]", analysisPath, i)
		if !baseline {
			errs = append(errs, fmt.Errorf("%s.compare: needs %s.judge.baseline: true, the arm to compare with", field, analysisPath))
		}
		if seen[m.Name] {
			errs = append(errs, fmt.Errorf("%s.name: %q is compared twice; compared metrics need distinct names", field, m.Name))
		}
		seen[m.Name] = true
		if m.TemplateRef == nil && m.Query == "" {
			errs = append(errs, fmt.Errorf("%s.templateRef: a compared metric needs a MetricTemplate that can be asked per arm ({{ workload }}), not a builtin metric", field))
		}
		switch m.Compare.Kind {
		case flaggerv1.CountComparison:
			if m.Compare.TotalTemplateRef == nil {
				errs = append(errs, fmt.Errorf("%s.compare.totalTemplateRef: required for a count comparison", field))
			}
			if _, err := CountConfigFor(a.Judge, m, i); err != nil {
				errs = append(errs, err)
			}
		case flaggerv1.ContinuousComparison:
			if _, err := RankConfigFor(a.Judge, m, i); err != nil {
				errs = append(errs, err)
			}
		default:
			errs = append(errs, fmt.Errorf("%s.compare.kind: %q is neither %s nor %s", field, m.Compare.Kind,
				flaggerv1.CountComparison, flaggerv1.ContinuousComparison))
		}
	}
	if a.Judge != nil {
		// The judge's own settings, also without a compared metric.
		if _, err := CountConfigFor(a.Judge, flaggerv1.CanaryMetric{}, 0); err != nil {
			errs = append(errs, err)
		}
	}
	if baseline {
		errs = append(errs, validateBaselineWeights(a)...)
	}
	return errors.Join(dedupe(errs)...)
}

// validateBaselineWeights checks that the analysis can give the baseline a
// weight next to the canary's.
func validateBaselineWeights(a *flaggerv1.CanaryAnalysis) []error {
	field := analysisPath + ".judge.baseline"
	var errs []error
	switch {
	case len(a.Match) > 0:
		errs = append(errs, fmt.Errorf("%s: an A/B analysis (match) sends whole users to the canary; a baseline needs a weighted analysis", field))
	case a.Mirror:
		errs = append(errs, fmt.Errorf("%s: a mirrored analysis gives the canary no weight; a baseline needs a weighted analysis", field))
	case a.StepWeight == 0 && len(a.StepWeights) == 0:
		errs = append(errs, fmt.Errorf("%s: needs a weighted analysis (stepWeight or stepWeights), not blue/green iterations", field))
	}
	if a.MaxWeight > MaxBaselineWeight {
		errs = append(errs, fmt.Errorf("%s.maxWeight: %d leaves the primary less than the baseline and canary (100-2w); at most %d with judge.baseline",
			analysisPath, a.MaxWeight, MaxBaselineWeight))
	}
	if n := len(a.StepWeights); n > 0 && a.StepWeights[n-1] > MaxBaselineWeight {
		errs = append(errs, fmt.Errorf("%s.stepWeights: %d leaves the primary less than the baseline and canary (100-2w); at most %d with judge.baseline",
			analysisPath, a.StepWeights[n-1], MaxBaselineWeight))
	}
	return errs
}

// dedupe drops repeated messages: judge.alpha is checked with every
// compared metric, and an error about it should be said once.
func dedupe(errs []error) []error {
	seen := map[string]bool{}
	out := errs[:0]
	for _, err := range errs {
		if !seen[err.Error()] {
			seen[err.Error()] = true
			out = append(out, err)
		}
	}
	return out
}
