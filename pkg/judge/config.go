package judge

import (
	"errors"
	"fmt"
)

// CountConfig sets the count test. A zero field takes its default, so the
// zero CountConfig is a usable test. It must not change during an analysis:
// CountState holds evidence against these ratios.
type CountConfig struct {
	// Alpha bounds the probability of ever failing a canary whose bad-event
	// rate is at most ToleratedRatio times the baseline's. Default 0.01.
	Alpha float64
	// Beta bounds the probability of ever passing early a canary whose rate
	// is PassRatio times the baseline's or worse. Default 0.05.
	Beta float64
	// ToleratedRatio is the largest ratio of the canary's rate to the
	// baseline's that must not fail. Default 1.
	ToleratedRatio float64
	// PassRatio is the smallest ratio that must not pass early; it is above
	// ToleratedRatio. Default 1.5 × ToleratedRatio.
	PassRatio float64
	// MinRequests is how many requests each arm serves before any decision.
	// Default 1000.
	MinRequests float64
	// ExpectedShare is the canary's expected share of the requests of both
	// arms, from the weights (baseline and canary at the same weight: 0.5).
	// Default 0.5.
	ExpectedShare float64
	// SplitTolerance is how far the canary's share may be from
	// ExpectedShare without being a mismatch. Default 0.02.
	SplitTolerance float64
	// SplitAlpha bounds the probability of ever declaring a mismatch when
	// the share is within the tolerance. Default 0.001.
	SplitAlpha float64
	// Dispersion is the variance of one arm's bad events in a tick over
	// their mean: 1 (the default) when requests fail independently, more
	// when errors come in bursts that hit one arm and not the other. Each
	// tick's log likelihood ratio is divided by it, the quasi-likelihood
	// correction. Bursts common to both arms need none: the test conditions
	// on the total of bad events.
	Dispersion float64
}

// Defaults of CountConfig.
const (
	DefaultAlpha          = 0.01
	DefaultBeta           = 0.05
	DefaultToleratedRatio = 1
	DefaultPassFactor     = 1.5
	DefaultMinRequests    = 1000
	DefaultExpectedShare  = 0.5
	DefaultSplitTolerance = 0.02
	DefaultSplitAlpha     = 0.001
	DefaultDispersion     = 1
)

// WithDefaults returns c with every zero field set to its default.
func (c CountConfig) WithDefaults() CountConfig {
	setDefault(&c.Alpha, DefaultAlpha)
	setDefault(&c.Beta, DefaultBeta)
	setDefault(&c.ToleratedRatio, DefaultToleratedRatio)
	setDefault(&c.PassRatio, DefaultPassFactor*c.ToleratedRatio)
	setDefault(&c.MinRequests, DefaultMinRequests)
	setDefault(&c.ExpectedShare, DefaultExpectedShare)
	setDefault(&c.SplitTolerance, DefaultSplitTolerance)
	setDefault(&c.SplitAlpha, DefaultSplitAlpha)
	setDefault(&c.Dispersion, DefaultDispersion)
	return c
}

func setDefault(v *float64, d float64) {
	if *v == 0 {
		*v = d
	}
}

// Validate returns what is wrong with c once defaulted, for admission.
func (c CountConfig) Validate() error {
	c = c.WithDefaults()
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(open01(c.Alpha), "alpha %v is not in (0, 1)", c.Alpha)
	check(open01(c.Beta), "beta %v is not in (0, 1)", c.Beta)
	check(open01(c.SplitAlpha), "split alpha %v is not in (0, 1)", c.SplitAlpha)
	// The negated forms reject NaN too.
	check(c.ToleratedRatio > 0 && c.ToleratedRatio < 1e6, "tolerated ratio %v is not in (0, 1e6)", c.ToleratedRatio)
	check(c.PassRatio > c.ToleratedRatio && c.PassRatio < 1e6, "pass ratio %v is not in (tolerated ratio %v, 1e6)", c.PassRatio, c.ToleratedRatio)
	check(c.MinRequests >= 0 && c.MinRequests < maxCounter, "minimum requests %v is negative or too large", c.MinRequests)
	check(open01(c.ExpectedShare), "expected share %v is not in (0, 1)", c.ExpectedShare)
	check(c.SplitTolerance >= 0 && c.SplitTolerance < min(c.ExpectedShare, 1-c.ExpectedShare),
		"split tolerance %v leaves no share on one side of %v", c.SplitTolerance, c.ExpectedShare)
	check(c.Dispersion >= 1 && c.Dispersion < 1e6, "dispersion %v is not in [1, 1e6)", c.Dispersion)
	return errors.Join(errs...)
}

func open01(v float64) bool { return v > 0 && v < 1 }
