package judge_test

import (
	"fmt"

	"github.com/serin-dev/serin/pkg/judge"
)

// One analysis as the controller would run it: at each tick, query the
// cumulative counters of both arms, hand them to Observe with the state
// stored at the last tick, store the new state, act on the verdict. Here the
// canary fails 3% of its requests and the baseline 1%. The evidence by hand:
// 60 canary and 20 baseline errors on an even split give
// (2r/(r+1))^60·(2/(r+1))^20 = 53, 650, 9440, 35070, 5874 and 6 for r = 1.25,
// 1.5, 2, 3, 5 and 10, a mean of 8515.
func ExampleCountConfig_Observe() {
	c := judge.CountConfig{} // the defaults: alpha 0.01, beta 0.05, ...
	var st judge.CountState
	var baseline, canary judge.Counters
	for tick := range 6 {
		st2, d := c.Observe(st, judge.Sample{Baseline: baseline, Canary: canary})
		st = st2
		fmt.Println(tick, d.Verdict, d.Reason)
		if d.Verdict == judge.Fail || d.Verdict == judge.Pass {
			fmt.Println(d.Message)
			break
		}
		baseline.Requests, baseline.Bad = baseline.Requests+1000, baseline.Bad+10
		canary.Requests, canary.Bad = canary.Requests+1000, canary.Bad+30
	}
	// Output:
	// 0 Inconclusive NotEnoughTraffic
	// 1 Continue NotEnoughEvidence
	// 2 Fail CanaryWorse
	// canary bad-event rate 3% (60/2000) is more than 1× the baseline's 1% (20/2000): evidence 8.51e+03 reached 100 (1/alpha)
}
