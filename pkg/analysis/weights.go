package analysis

import "github.com/serin-dev/serin/pkg/apis/flagger/v1beta1"

// totalWeight is the sum of the primary and canary weights.
const totalWeight = 100

// NextWeight returns the canary weight that follows current: current plus
// stepWeight (stepWeight wins over stepWeights), or the next rung of the
// stepWeights ladder. It never exceeds the canary's max weight (the last rung
// when stepWeights is set, else maxWeight, else 100); a result not above
// current means there is nothing left to step, and the analysis moves to
// promotion.
//
// Unlike Flagger, a step never overshoots the max weight (stepWeight 20 with
// maxWeight 50 gives 20, 40, 50 rather than 20, 40, 60), and a weight that is
// not on the ladder moves to the next rung above it instead of jumping to
// 100.
func NextWeight(c *v1beta1.Canary, current int) int {
	a := c.GetAnalysis()
	if a == nil {
		return current
	}
	next := current + a.StepWeight
	if a.StepWeight <= 0 && len(a.StepWeights) > 0 {
		next = nextRung(a.StepWeights, current)
	}
	return max(0, min(next, c.GetMaxWeight(), totalWeight))
}

// nextRung returns the first rung above current, or totalWeight.
func nextRung(ladder []int, current int) int {
	for _, w := range ladder {
		if w > current {
			return w
		}
	}
	return totalWeight
}

// promotionStep moves step percent of the traffic from the canary back to the
// primary.
func promotionStep(r Routes, step int) (primary, canary int) {
	canary = max(0, r.Canary-step)
	return totalWeight - canary, canary
}

// asShares returns the route's weights as percentages. Gateway API weights
// are relative (primary 1, canary 3 is 25/75), and another writer may have
// set any of them; Step only ever reasons about shares of 100. A route that
// sends nothing anywhere (0/0) stays 0/0.
//
// The judge's baseline backend is a third share: primary, canary and
// baseline add up to 100.
func asShares(r Routes) Routes {
	p, c, b := max(r.Primary, 0), max(r.Canary, 0), max(r.Baseline, 0)
	sum := p + c + b
	if sum == totalWeight || sum == 0 {
		r.Primary, r.Canary, r.Baseline = p, c, b
		return r
	}
	canary := (c*totalWeight + sum/2) / sum
	baseline := (b*totalWeight + sum/2) / sum
	r.Primary, r.Canary, r.Baseline = max(totalWeight-canary-baseline, 0), canary, baseline
	return r
}
