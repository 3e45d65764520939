package judge

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// splitReference is the split evidence by numerical integration of the
// Beta(50, 50) mixture, ∫ p^nc (1−p)^nb Beta(p) dp, over the likelihood at
// the share in [0.48, 0.52] closest to nc/(nc+nb): the definition, computed
// without the closed form (midpoint rule, logs scaled by their maximum).
func splitReference(nc, nb float64) float64 {
	const steps = 200000
	logf := func(p float64) float64 {
		return (nc+49)*math.Log(p) + (nb+49)*math.Log(1-p)
	}
	top := math.Inf(-1)
	for i := range steps {
		top = max(top, logf((float64(i)+0.5)/steps))
	}
	var integral float64
	for i := range steps {
		integral += math.Exp(logf((float64(i)+0.5)/steps) - top)
	}
	integral /= steps
	lg := func(x float64) float64 { v, _ := math.Lgamma(x); return v }
	logPrior := lg(100) - 2*lg(50) // 1/B(50, 50)
	best := min(max(nc/(nc+nb), 0.48), 0.52)
	return math.Exp(math.Log(integral) + top + logPrior - nc*math.Log(best) - nb*math.Log(1-best))
}

func TestSplitEvidence(t *testing.T) {
	c := CountConfig{}.WithDefaults()
	for _, tc := range []struct {
		name   string
		nc, nb float64
	}{
		{"on the expected share", 500, 500},
		{"within the tolerance", 510, 490},
		{"40%", 400, 600},
		{"a small sample", 7, 13},
		{"30% of a large sample", 3000, 7000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := math.Exp(c.logSplitEvidence(sample(tc.nb, 0, tc.nc, 0)))
			want := splitReference(tc.nc, tc.nb)
			assert.InEpsilon(t, want, got, 1e-6)
		})
	}
	// What the table shows in numbers: a share within the tolerance is no
	// evidence, 40% of 1000 requests is strong evidence.
	assert.Less(t, math.Exp(c.logSplitEvidence(sample(490, 0, 510, 0))), 1.0)
	assert.Greater(t, math.Exp(c.logSplitEvidence(sample(600, 0, 400, 0))), 1/c.SplitAlpha)
}
